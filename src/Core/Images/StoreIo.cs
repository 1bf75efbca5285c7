namespace Containers.Core.Images;

/// <summary>Small durable-write helpers.</summary>
internal static class StoreIo
{
    /// <summary>Replaces a store file atomically (0600, in a private directory): the one atomic writer with the store's modes.</summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> data, bool durable = true)
    {
        PrivateStore.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, data, PrivateStore.FileMode, durable);
    }
}
