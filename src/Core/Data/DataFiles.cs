namespace Sweep.Core.Data;

/// <summary>Reading dataset files: whole, gunzipped when they are gzip, with one clear error per problem.</summary>
public static class DataFiles
{
    /// <summary>The file's bytes (decompressed when it starts with the gzip magic), within <see cref="DataPolicy.Current"/>.</summary>
    /// <exception cref="DatasetException">Missing, a directory, unreadable, corrupt gzip, or refused by the policy.</exception>
    public static byte[] ReadAll(string path) => DataPolicy.Current.ReadAll(path);

    /// <summary>The number of classes labels come from: the largest label + 1.</summary>
    public static int Classes(IReadOnlyList<int> labels) => labels.Count == 0 ? 1 : labels.Max() + 1;
}
