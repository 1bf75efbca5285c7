using Containers.Core.Build;
using Containers.Core.Errors;

namespace Containers.Core.Tests.Build;

public class ContainerfileTests
{
    [Fact]
    public void ReadsDirectivesContinuationsCommentsStagesAndFlags()
    {
        var f = Containerfile.Parse("# escape=`\nARG V=1\nFROM base:$V AS Build\nRUN a `\n# dropped comment\n\n  && b\nCOPY --from=build --chown=1:2 x /y\nfrom scratch\nCMD [\"/x\"]\n", "Containerfile");
        Assert.Single(f.GlobalArgs);
        Assert.Equal(2, f.Stages.Count);
        Assert.Equal(("base:$V", "build"), (f.Stages[0].Base, f.Stages[0].Name));
        var run = f.Stages[0].Instructions[0];
        Assert.Equal(("RUN", "a   && b", 4), (run.Keyword, run.Arguments, run.Line));
        var copy = f.Stages[0].Instructions[1];
        Assert.Equal("build", copy.Flags["from"]);
        Assert.Equal("1:2", copy.Flags["chown"]);
        Assert.Equal("x /y", copy.Arguments);
        Assert.Equal("scratch", f.Stages[1].Base);
    }

    [Theory]
    [InlineData("RUN true", "Containerfile:1: RUN expects to come after FROM")]
    [InlineData("FROM a\nWORKDIR", "Containerfile:2: WORKDIR expects arguments")]
    [InlineData("FROM a b c d", "Containerfile:1: FROM expects an image and optionally 'AS name'")]
    [InlineData("FROM a\nBUILD x", "Containerfile:2: 'BUILD' is not an instruction")]
    [InlineData("# escape=x\nFROM a", "Containerfile:1: the escape directive expects \\ or `")]
    [InlineData("# just a comment", "Containerfile: there is no FROM instruction")]
    [InlineData("FROM a\nRUN <<EOF\necho", "Containerfile:2: the heredoc <<EOF is not terminated")]
    public void NamesFileLineInstructionAndWhatWasExpected(string text, string message)
    {
        var e = Assert.ThrowsAny<ContainersException>(() => Containerfile.Parse(text, "Containerfile"));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void ReadsHeredocBodiesAfterTheirInstruction()
    {
        var f = Containerfile.Parse(
            "FROM a\nRUN <<EOF\necho one\n  two\nEOF\nCOPY <<-'A' <<B /etc/\n\tx $V\n\tA\ny\nB\nRUN echo '<<NOT' \"<<NOT\" <<<here\nRUN [\"<<NOT\"]\n",
            "Containerfile");
        var ins = f.Stages[0].Instructions;
        Assert.Equal(4, ins.Count);
        var run = Assert.Single(ins[0].Heredocs);
        Assert.Equal(("EOF", "echo one\n  two\n", true, "<<EOF"), (run.Name, run.Content, run.Expand, run.Token));
        Assert.Equal(["x $V\n", "y\n"], ins[1].Heredocs.Select(h => h.Content));
        Assert.Equal([false, true], ins[1].Heredocs.Select(h => h.Expand));
        Assert.Equal(["<<-'A'", "<<B"], ins[1].Heredocs.Select(h => h.Token));
        Assert.Empty(ins[2].Heredocs);
        Assert.Empty(ins[3].Heredocs);
        Assert.Equal(11, ins[2].Line);
    }

    [Fact]
    public void RunsAHeredocAloneThroughItsInterpreterOrTheShell()
    {
        var f = Containerfile.Parse("FROM a\nRUN <<EOF\n#!/usr/bin/env python3 -u\nprint(1)\nEOF\nRUN <<EOF\necho hi\nEOF\nRUN cat <<EOF >/x\nhi\nEOF\n", "Containerfile");
        var ins = f.Stages[0].Instructions;
        var (argv, scripts) = HeredocRun.Command(ins[0], ["/bin/sh", "-c"]);
        Assert.Equal(["/usr/bin/env", "python3 -u", "/dev/.pscontainers-heredoc"], argv);
        Assert.Equal(["#!/usr/bin/env python3 -u\nprint(1)\n"], scripts);
        Assert.Equal(["/bin/sh", "-c", "echo hi\n"], HeredocRun.Command(ins[1], ["/bin/sh", "-c"]).Argv);
        Assert.Equal(["/bin/sh", "-c", "cat <<EOF >/x\nhi\nEOF\n"], HeredocRun.Command(ins[2], ["/bin/sh", "-c"]).Argv);
    }

    [Fact]
    public void ExpandsVariablesWithDefaults()
    {
        string? Look(string n) => n switch { "A" => "1", "E" => "", _ => null };
        Assert.Equal("1-x-y--$", BuildVariables.Expand("${A}-${B:-x}-${A:+y}-${E:+z}-\\$", Look));
        Assert.Equal("/p/1/q", BuildVariables.Expand("/p/$A/q", Look));
    }
}
