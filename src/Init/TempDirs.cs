namespace Containers.Init;

/// <summary>Removes a temp tree even where overlayfs left a mode-000 work/work directory behind.</summary>
internal static class TempDirs
{
    public static void Remove(string root)
    {
        try
        {
            MakeWritable(root);
            Directory.Delete(root, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static void MakeWritable(string dir)
    {
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var sub in new DirectoryInfo(dir).EnumerateDirectories())
            if (sub.LinkTarget is null) MakeWritable(sub.FullName);
    }
}
