using EventSnn.Samples.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSingleton(new GestureWorkerSettings
{
    Port = int.TryParse(builder.Configuration["Worker:Port"], out int port) ? port : 8991,
    Checkpoint = builder.Configuration["Worker:Checkpoint"],
});
builder.Services.AddHostedService<GestureWorker>();
await builder.Build().RunAsync();
