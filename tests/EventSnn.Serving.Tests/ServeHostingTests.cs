using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventSnn.Serving.Tests;

/// <summary>The serve host inside a generic host: options bound and validated with Microsoft.Extensions.Options.</summary>
public class ServeHostingTests
{
    [Fact]
    public async Task Invalid_options_fail_the_start_naming_the_setting()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddEventSnnServe(new ServeOptions { FrameInterval = TimeSpan.Zero });
        using IHost host = builder.Build();
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("ServeOptions.FrameInterval", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_bind_from_configuration_and_the_host_serves_them()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Serve:Listeners:0:Kind"] = "JaerUdp",
            ["Serve:Listeners:0:Port"] = "0",
            ["Serve:Listeners:0:Name"] = "left",
            ["Serve:HttpPort"] = "0",
            ["Serve:MaxClients"] = "3",
            ["Serve:Model:Hidden"] = "24",
        });
        builder.Services.AddEventSnnServe(builder.Configuration.GetSection("Serve"));
        using IHost host = builder.Build();
        await host.StartAsync();
        try
        {
            ServeService service = host.Services.GetRequiredService<ServeService>();
            ServeEndpoints endpoints = await service.Started;
            ServeOptions bound = host.Services.GetRequiredService<IOptions<ServeOptions>>().Value;
            Assert.Equal((3, 24), (bound.MaxClients, bound.Model.Hidden));
            (ServeListener listener, _) = Assert.Single(endpoints.Inputs);
            Assert.Equal((ServeInputKind.JaerUdp, "left"), (listener.Kind, listener.Name));
            (int status, string body) = await EventSnn.Testing.HttpProbe.Get(endpoints.Http!.Port, "/health");
            Assert.Equal(200, status);
            Assert.Contains("\"status\":\"ok\"", body, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
