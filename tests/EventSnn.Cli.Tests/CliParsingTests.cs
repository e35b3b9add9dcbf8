using System.Globalization;

namespace EventSnn.Cli.Tests;

/// <summary>The command line on System.CommandLine: every command's options, aliases, help, version, suggestions, completions.</summary>
public class CliParsingTests
{
    public static TheoryData<string> CommandNames()
    {
        var data = new TheoryData<string>();
        foreach (Command c in CommandCatalog.All())
        {
            data.Add(c.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void Every_option_of_every_command_parses_under_its_name_and_its_aliases(string name)
    {
        Command command = CommandCatalog.All().Single(c => c.Name == name);
        foreach (OptionSpec spec in command.Options.Where(o => o.Name != CliParser.ConfigOverrides))
        {
            // a value of the option's kind: a number, or its first and last choice
            (CliParser.ValueKind kind, IReadOnlyList<string> choices, _) = CliParser.ValueCheckOf(spec);
            (string value, string other) = kind == CliParser.ValueKind.Choice ? (choices[0], choices[^1]) : ("7", "8");
            foreach (string given in spec.Aliases.Prepend(spec.Name))
            {
                string[] args = spec.Value is null ? ["--" + given] : ["--" + given, value];
                ParsedArgs parsed = ParsedArgs.Parse(args, command);
                Assert.True(parsed.Has(spec.Name), $"{name} --{given}");
                Assert.Equal(spec.Value is null ? null : value, parsed.Get(spec.Name));
                Assert.Single(parsed.All);
                if (spec.Value is not null)
                {
                    // the --name=value form too
                    Assert.Equal(other, ParsedArgs.Parse(["--" + given + "=" + other], command).Get(spec.Name));
                }
            }
        }

        // a flag takes no value, a valued option needs one
        if (command.Options.FirstOrDefault(o => o.Value is not null && o.Name != CliParser.ConfigOverrides) is { } valued)
        {
            UsageException missing = Assert.Throws<UsageException>(() => ParsedArgs.Parse(["--" + valued.Name], command));
            Assert.Contains("--" + valued.Name, missing.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Every valued option of every command with values of the wrong kind: words for numbers, fractions for whole numbers, NaN, overflow, unknown choices.</summary>
    public static TheoryData<string, string, string> BadValues()
    {
        var data = new TheoryData<string, string, string>();
        foreach (Command c in CommandCatalog.All())
        {
            foreach (OptionSpec spec in c.Options)
            {
                if (spec.Value is null || spec.Name == CliParser.ConfigOverrides)
                {
                    continue;
                }

                string[] values = CliParser.ValueCheckOf(spec).Kind switch
                {
                    CliParser.ValueKind.WholeNumber => ["abc", "1.5", "99999999999999999999", ""],
                    CliParser.ValueKind.Number => ["abc", "NaN", "Infinity", "1e999"],
                    CliParser.ValueKind.Choice => ["bogus", ""],
                    _ => [],
                };
                foreach (string v in values)
                {
                    data.Add(c.Name, spec.Name, v);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task Every_option_refuses_a_value_of_the_wrong_kind_with_one_line_naming_it_before_any_work(string command, string option, string value)
    {
        Task<(int Code, string Out, string Err)> run = Task.Run(() => CliHarness.Run([.. command.Split(' '), "--" + option, value]));
        (int code, string output, string err) = await run.WaitAsync(TimeSpan.FromSeconds(30)); // a TimeoutException if it started working
        Assert.True(code == 2, $"{command} --{option} '{value}': exit {code}: {output} {err}");
        Assert.Contains("--" + option, err, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Positionals_keep_their_order_and_everything_after_a_double_dash_is_an_argument()
    {
        Command convert = CommandCatalog.All().Single(c => c.Name == "convert");
        ParsedArgs parsed = ParsedArgs.Parse(["a.aedat4", "--force", "--", "--odd-name.aedat4"], convert);
        Assert.Equal(["a.aedat4", "--odd-name.aedat4"], parsed.Positionals);
        Assert.True(parsed.Has("force"));

        // more positionals than the command takes
        Command inspect = CommandCatalog.All().Single(c => c.Name == "inspect");
        UsageException extra = Assert.Throws<UsageException>(() => ParsedArgs.Parse(["a.aedat4", "b.aedat4"], inspect));
        Assert.Contains("unexpected argument 'b.aedat4' for 'inspect'", extra.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bench decode --generate evt3 --events -1", "--events")]
    [InlineData("bench decode --generate evt3 --events 1000 --repeats 0", "--repeats")]
    [InlineData("bench decode --generate evt3 --events 1000 --repeats -3", "--repeats")]
    [InlineData("bench step --batch 1000000000000", "--batch")]
    [InlineData("classify tcp://127.0.0.1:99999", "tcp://127.0.0.1:99999")]
    [InlineData("inspect udp://127.0.0.1:9 --duration NaN", "--duration")]
    [InlineData("serve --duration -1", "--duration")]
    public void Bad_values_are_exit_2_naming_the_option_without_internals(string line, string named)
    {
        (int code, string output, string err) = CliHarness.Run(line.Split(' '));
        Assert.Equal(2, code);
        Assert.Contains(named, err, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.DoesNotContain("generated", err, StringComparison.Ordinal); // refused before any work
        Assert.Empty(output);
    }

    [Fact]
    public void Sensor_WxH_sets_width_and_height_and_refuses_a_second_size()
    {
        Command serve = CommandCatalog.All().Single(c => c.Name == "serve");
        ParsedArgs parsed = ParsedArgs.Parse(["--sensor", "346x260"], serve);
        Assert.Equal(("346", "260"), (parsed.Get("width"), parsed.Get("height")));
        Assert.Contains("--sensor", Assert.Throws<UsageException>(() => ParsedArgs.Parse(["--sensor", "346x260", "--width", "128"], serve)).Message, StringComparison.Ordinal);
        Assert.Contains("'346by260' is not WxH", Assert.Throws<UsageException>(() => ParsedArgs.Parse(["--sensor", "346by260"], serve)).Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--width", CliHarness.Run("serve", "--help").Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_version_groups_and_help_command()
    {
        (int code, string output, _) = CliHarness.Run("--help");
        Assert.Equal(0, code);
        foreach (string group in new[] { "bench", "dataset", "repro", "serve", "send", "completions" })
        {
            Assert.Contains(group, output, StringComparison.Ordinal);
        }

        (code, output, _) = CliHarness.Run("-h");
        Assert.Equal(0, code);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);

        (code, output, _) = CliHarness.Run("--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", output.Trim());

        // a group alone lists its subcommands
        (code, output, _) = CliHarness.Run("bench");
        Assert.Equal(0, code);
        foreach (string sub in new[] { "decode", "pipeline", "step", "backends" })
        {
            Assert.Contains(sub, output, StringComparison.Ordinal);
        }

        // help <command> equals <command> --help
        (int helpCode, string viaHelp, _) = CliHarness.Run("help", "bench", "step");
        Assert.Equal(0, helpCode);
        Assert.Equal(CliHarness.Run("bench", "step", "--help").Out, viaHelp);
        Assert.Contains("--chunk-length", viaHelp, StringComparison.Ordinal);
    }

    [Fact]
    public void Typos_are_exit_2_with_a_suggestion()
    {
        (int code, _, string err) = CliHarness.Run("bnech", "step");
        Assert.Equal(2, code);
        Assert.Contains("'bnech'", err, StringComparison.Ordinal);
        Assert.Contains("bench", err, StringComparison.Ordinal);

        (code, _, err) = CliHarness.Run("inspect", "x.aedat4", "--jsno");
        Assert.Equal(2, code);
        Assert.Contains("unknown option --jsno for 'inspect'; did you mean --json?", err, StringComparison.Ordinal);

        (code, _, err) = CliHarness.Run("bench", "step", "--hiden", "3");
        Assert.Equal(2, code);
        Assert.Contains("--hiden", err, StringComparison.Ordinal);
        Assert.Contains("--hidden", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void One_name_per_idea_with_the_former_names_still_accepted()
    {
        Command step = CommandCatalog.All().Single(c => c.Name == "bench step");
        Assert.Equal("3", ParsedArgs.Parse(["--chunk", "3"], step).Get("chunk-length"));
        Command decode = CommandCatalog.All().Single(c => c.Name == "bench decode");
        Assert.Equal("2", ParsedArgs.Parse(["--repeat", "2"], decode).Get("repeats"));
        Command adding = CommandCatalog.All().Single(c => c.Name == "repro adding");
        Assert.Equal("64", ParsedArgs.Parse(["--neurons", "64"], adding).Get("hidden"));

        // every option name means one thing: no command lists an option under two names, and the former names are gone from the lists
        string[] former = ["chunk", "repeat", "neurons", "pool", "jaer-chip"];
        foreach (Command c in CommandCatalog.All())
        {
            Assert.DoesNotContain(c.Options, o => former.Contains(o.Name));
        }
    }

    [Theory]
    [InlineData("bash", "complete -o default -F _eventsnn_complete eventsnn")]
    [InlineData("zsh", "compdef _eventsnn_complete eventsnn")]
    [InlineData("pwsh", "Register-ArgumentCompleter -Native -CommandName eventsnn")]
    public void Completion_scripts_ask_the_tool_through_the_suggest_directive(string shell, string line)
    {
        (int code, string script, _) = CliHarness.Run("completions", shell);
        Assert.Equal(0, code);
        Assert.Contains(line, script, StringComparison.Ordinal);
        Assert.Contains("[suggest:", script, StringComparison.Ordinal);
        Assert.Equal(2, CliHarness.Run("completions", "fish").Code);
    }

    [Fact]
    public void The_suggest_directive_completes_commands_and_options()
    {
        (int code, string output, _) = CliHarness.Run("[suggest:3]", "ben");
        Assert.Equal(0, code);
        Assert.Contains("bench", output.Split('\n').Select(l => l.Trim()));

        string line = "bench step --hid";
        (code, output, _) = CliHarness.Run("[suggest:" + line.Length.ToString(CultureInfo.InvariantCulture) + "]", line);
        Assert.Equal(0, code);
        Assert.Contains("--hidden", output.Split('\n').Select(l => l.Trim()));
    }
}
