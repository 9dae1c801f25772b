using System.Diagnostics;
using System.IO.Compression;
using Sweep.Core.Data;
using Xunit;

namespace Sweep.Core.Tests;

/// <summary>A silo's dataset policy: data roots by real path, regular files only, size caps on disk and gunzipped.</summary>
public sealed class DataPolicyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-policy-").FullName;
    private string Root => Path.Combine(_dir, "root");
    private string Outside => Path.Combine(_dir, "outside");

    public DataPolicyTests()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
        File.WriteAllBytes(Path.Combine(Root, "ok.bin"), new byte[1000]);
        File.WriteAllBytes(Path.Combine(Outside, "secret.bin"), new byte[10]);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_file_under_a_root_is_read_and_one_outside_is_refused_without_saying_whether_it_exists()
    {
        var policy = new DataPolicy([Root], 1 << 20);
        Assert.Equal(1000, policy.ReadAll(Path.Combine(Root, "ok.bin")).Length);
        var existing = Assert.Throws<DatasetRefusedException>(() => policy.Check(Path.Combine(Outside, "secret.bin")));
        var missing = Assert.Throws<DatasetRefusedException>(() => policy.Check(Path.Combine(Outside, "nothing.bin")));
        Assert.Equal(existing.Message.Replace("secret", "X"), missing.Message.Replace("nothing", "X"));
        Assert.Contains("outside this cluster's data roots", existing.Message);
        // "..", and a root's name as a prefix of another folder, do not get out either.
        Assert.Throws<DatasetRefusedException>(() => policy.Check(Path.Combine(Root, "..", "outside", "secret.bin")));
        Directory.CreateDirectory(Root + "-evil");
        File.WriteAllBytes(Path.Combine(Root + "-evil", "x.bin"), [1]);
        Assert.Throws<DatasetRefusedException>(() => policy.Check(Path.Combine(Root + "-evil", "x.bin")));
    }

    [Fact]
    public void A_spec_naming_a_path_outside_the_roots_is_refused_in_the_same_words_whether_it_exists_or_not()
    {
        using (DataPolicy.Use(new DataPolicy([Root])))
        {
            string Refusal(string dataset) => Assert.Throws<Search.SpecException>(() => Search.SpecParser.Parse(
                $$"""{ "name": "x", "dataset": {{dataset}}, "search": { "strategy": "grid", "space": { "pruneRate": [0.5] } } }""",
                _dir)).Reason;
            string ok = Path.Combine(Root, "ok.bin");
            string[] refusals =
            [
                Refusal($$"""{ "images": "{{Path.Combine(Outside, "secret.bin")}}", "labels": "{{ok}}" }"""),
                Refusal($$"""{ "images": "{{Path.Combine(Outside, "missing.bin")}}", "labels": "{{ok}}" }"""),
                Refusal($$"""{ "images": "{{Outside}}", "labels": "{{ok}}" }"""),
                Refusal($$"""{ "images": "/etc/shadow", "labels": "{{ok}}" }"""),
                Refusal($$"""{ "images": "/etc/does-not-exist", "labels": "{{ok}}" }"""),
                Refusal($$"""{ "cifar10": "/nonexistent-dir" }"""),
                Refusal($$"""{ "cifar10": "{{Outside}}" }"""),
            ];
            string[] paths = [Path.Combine(Outside, "secret.bin"), Path.Combine(Outside, "missing.bin"), Outside, "/etc/shadow",
                "/etc/does-not-exist", "/nonexistent-dir", Outside];
            var words = refusals.Select((r, i) => r.Replace(paths[i], "PATH", StringComparison.Ordinal)).Distinct().ToArray();
            Assert.Single(words);
            Assert.Contains("outside this cluster's data roots", words[0]);
            // Inside a root, a missing file is still said to be missing.
            Assert.Contains("file not found", Refusal($$"""{ "images": "{{Path.Combine(Root, "none.bin")}}", "labels": "{{ok}}" }"""));
        }
    }

    [Fact]
    public void A_symbolic_link_inside_a_root_that_points_outside_is_refused()
    {
        string link = Path.Combine(Root, "link.bin");
        File.CreateSymbolicLink(link, Path.Combine(Outside, "secret.bin"));
        var policy = new DataPolicy([Root]);
        var e = Assert.Throws<DatasetRefusedException>(() => policy.ReadAll(link));
        Assert.Contains("outside this cluster's data roots", e.Message);
        // A link that stays inside is fine.
        string inside = Path.Combine(Root, "inside.bin");
        File.CreateSymbolicLink(inside, Path.Combine(Root, "ok.bin"));
        Assert.Equal(1000, policy.ReadAll(inside).Length);
    }

    [Fact]
    public void Devices_and_pipes_are_never_opened()
    {
        var any = new DataPolicy();
        Assert.Contains("not a regular file", Assert.Throws<DatasetRefusedException>(() => any.ReadAll("/dev/zero")).Message);
        string fifo = Path.Combine(Root, "fifo");
        using (var mkfifo = Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        // Opening a FIFO with no writer would block forever: the check must refuse it before any open.
        var refused = Assert.Throws<DatasetRefusedException>(() => new DataPolicy([Root]).Probe(fifo));
        Assert.Contains("not a regular file", refused.Message);
    }

    [Fact]
    public void Files_over_the_cap_on_disk_or_gunzipped_are_refused_and_a_gzip_bomb_is_streamed_not_held()
    {
        var policy = new DataPolicy([Root], 64 << 10);
        File.WriteAllBytes(Path.Combine(Root, "big.bin"), new byte[(64 << 10) + 1]);
        var big = Assert.Throws<DatasetRefusedException>(() => policy.Check(Path.Combine(Root, "big.bin")));
        Assert.Contains("is 65537 bytes", big.Message);
        string bomb = Path.Combine(Root, "bomb.gz");
        using (var gz = new GZipStream(File.Create(bomb), CompressionLevel.SmallestSize)) gz.Write(new byte[8 << 20]);
        Assert.True(new FileInfo(bomb).Length < 64 << 10, "the bomb is small on disk");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DatasetRefusedException>(() => policy.Probe(bomb));
        Assert.Contains("decompresses to more than this silo's limit of 65536 bytes", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the probe allocated the inflated data");
        Assert.Throws<DatasetRefusedException>(() => policy.ReadAll(bomb));
        // Within the cap, gzip is read whole.
        using (var gz = new GZipStream(File.Create(Path.Combine(Root, "small.gz")), CompressionLevel.Fastest)) gz.Write(new byte[1000]);
        Assert.Equal(1000, policy.ReadAll(Path.Combine(Root, "small.gz")).Length);
    }

    [Fact]
    public void A_root_that_is_not_a_folder_is_a_setting_error()
    {
        var e = Assert.Throws<ArgumentException>(() => new DataPolicy([Path.Combine(_dir, "none")]));
        Assert.StartsWith("Sweep:DataRoots:", e.Message);
    }
}
