namespace EventSnn.Cli;

/// <summary>
/// Shell completion scripts for <c>eventsnn completions bash|zsh|pwsh</c>. Each asks the tool
/// itself through System.CommandLine's <c>[suggest:position]</c> directive, so completions follow
/// the installed version's commands and options.
/// </summary>
internal static class CompletionScripts
{
    public static string For(string shell) => shell switch
    {
        "bash" => """
            # eventsnn completion for bash: eval "$(eventsnn completions bash)" (e.g. in ~/.bashrc)
            _eventsnn_complete() {
              local IFS=$'\n'
              COMPREPLY=( $(compgen -W "$(eventsnn "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}") )
            }
            complete -o default -F _eventsnn_complete eventsnn

            """,
        "zsh" => """
            # eventsnn completion for zsh: eval "$(eventsnn completions zsh)" (e.g. in ~/.zshrc)
            _eventsnn_complete() {
              local -a suggestions
              suggestions=("${(@f)$(eventsnn "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
              compadd -a suggestions
            }
            compdef _eventsnn_complete eventsnn

            """,
        "pwsh" => """
            # eventsnn completion for PowerShell: eventsnn completions pwsh | Out-String | Invoke-Expression (e.g. in $PROFILE)
            Register-ArgumentCompleter -Native -CommandName eventsnn -ScriptBlock {
              param($wordToComplete, $commandAst, $cursorPosition)
              eventsnn "[suggest:$cursorPosition]" "$commandAst" 2>$null | ForEach-Object {
                [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
              }
            }

            """,
        _ => throw new UsageException($"unknown shell '{shell}' (bash, zsh or pwsh)"),
    };
}
