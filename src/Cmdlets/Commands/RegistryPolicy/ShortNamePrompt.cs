using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using Containers.Core.Policy;
using Containers.Core.Spec;

namespace Containers.Cmdlets.Commands.RegistryPolicy;

/// <summary>
/// Turns an ambiguous short name into a choice in an interactive session (enforcing or permissive
/// mode with several search registries), as podman prompts on a TTY. Scripts never prompt: Core
/// then throws ShortNameAmbiguous in enforcing mode, or gives all candidates in order otherwise.
/// </summary>
internal static class ShortNamePrompt
{
    /// <summary>True when a person can answer a prompt: an interactive host with a console that is not redirected.</summary>
    public static bool CanPrompt(PSCmdlet cmdlet) =>
        cmdlet.Host?.UI is not null && cmdlet.Host.Name != "Default Host" && Environment.UserInteractive
        && !Console.IsInputRedirected && !Console.IsOutputRedirected
        && cmdlet.SessionState.PSVariable.GetValue("PSContainersNonInteractive") is not true;

    /// <summary>The candidates to try: one chosen by the user when the resolution requires a choice, else all in order.</summary>
    public static IReadOnlyList<ImageReference> Choose(PSCmdlet cmdlet, ShortNameResolution resolution)
    {
        if (!resolution.RequiresChoice) return resolution.Candidates;
        var choices = new Collection<ChoiceDescription>();
        for (int i = 0; i < resolution.Candidates.Count; i++)
            choices.Add(new ChoiceDescription($"&{i + 1} {resolution.Candidates[i]}", resolution.Candidates[i].ToString()));
        int picked = cmdlet.Host.UI.PromptForChoice($"Short name '{resolution.Input}'",
            $"'{resolution.Input}' could come from any search registry (short-name-mode {resolution.Mode.ToString().ToLowerInvariant()}). Which one?",
            choices, 0);
        return new[] { resolution.Candidates[picked < 0 ? 0 : picked] };
    }
}
