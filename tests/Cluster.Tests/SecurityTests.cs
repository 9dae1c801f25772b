using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Sweep.Client;
using Sweep.Core;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Grains;
using Sweep.Training.Data;
using Xunit;

namespace Sweep.Cluster.Tests;

/// <summary>
/// A secured cluster of real processes: two silos with mTLS (certificates of a test authority), a cluster key, a client
/// credential, a data root and a 16 MB dataset cap, on a real redis-server; clients reach it by gateway address only.
/// </summary>
public sealed class SecureCluster : IAsyncLifetime
{
    public const long MaxDatasetBytes = 16L << 20;
    public string Root { get; } = Directory.CreateTempSubdirectory("sweep-secure-").FullName;
    public string Token { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    public RealCluster Cluster { get; } = new();
    public string ClientTls => Path.Combine(Root, "client-tls");
    public string ForeignTls => Path.Combine(Root, "foreign-tls");
    public string MixedTls => Path.Combine(Root, "mixed-tls");
    public string TokenFile => Path.Combine(Root, "token");
    public string DataRoot => Path.Combine(Root, "data");
    public string Gateway => $"127.0.0.1:{Cluster.Silos[0].GatewayPort}";
    /// <summary>The first silo's HTTP API (HTTPS with the silo's certificate, bearer token).</summary>
    public int HttpPort { get; } = RealCluster.FreePort();
    public string ApiUrl => $"https://127.0.0.1:{HttpPort}/";
    public string CaFile => Path.Combine(Root, "silo-tls", "ca.crt");
    private SweepClient? _client;

    public async ValueTask InitializeAsync()
    {
        var (ca, caKey) = Authority("CN=sweep-test-ca");
        Write(Path.Combine(Root, "silo-tls"), Issue(ca, caKey, "CN=sweep-silo"), ca);
        Write(ClientTls, Issue(ca, caKey, "CN=sweep-client"), ca);
        var (otherCa, otherKey) = Authority("CN=someone-else");
        var foreignLeaf = Issue(otherCa, otherKey, "CN=sweep-client");
        Write(ForeignTls, foreignLeaf, otherCa);
        // A certificate of another authority, presented by a client that trusts the cluster's: the silo refuses it.
        Write(MixedTls, foreignLeaf, ca);
        File.WriteAllText(TokenFile, Token + "\n");
        Directory.CreateDirectory(DataRoot);
        var env = new Dictionary<string, string>
        {
            ["Sweep__ClusterKey"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
            ["Sweep__ClientToken"] = Token,
            ["Sweep__DataRoots__0"] = DataRoot,
            ["Sweep__MaxDatasetBytes"] = MaxDatasetBytes.ToString(),
        };
        for (int i = 0; i < 2; i++)
            Cluster.StartSilo(env, i == 0 ? ["--tls", Path.Combine(Root, "silo-tls"), "--http-port", HttpPort.ToString()]
                : ["--tls", Path.Combine(Root, "silo-tls")]);
        _client = await SweepClient.ConnectAsync(Options());
        // Both silos joined (over mTLS between them) once both advertise their slots.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                var probe = await _client.SubmitAsync(SpecParser.Parse("""
                    { "name": "probe", "training": { "epochs": 0, "trainLimit": 10 },
                      "search": { "strategy": "grid", "space": { "pruneRate": [0.5] } } }
                    """, null));
                if ((await _client.GetStatusAsync(probe)).InFlightLimit >= 2) break;
            }
            catch (SweepAccessDeniedException) { throw; }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the secured silos did not form a cluster\n" + Cluster.Logs());
            await Task.Delay(500);
        }
    }

    public SweepClientOptions Options() => new()
    {
        Gateways = [Gateway], Token = Token, TlsDirectory = ClientTls, ClusterId = Cluster.ClusterId, Redis = null,
        Resilience = new() { ClientConnectAttempts = 30, ClientConnectDelay = TimeSpan.FromMilliseconds(500) },
    };

    public SweepClient Client => _client!;

    /// <summary>Runs `sweep ARGS` as a process with the cluster id, and returns exit code, stdout and stderr.</summary>
    public async Task<(int Code, string Stdout, string Stderr)> SweepAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sweep.dll"));
        foreach (var a in args.Concat(["--cluster-id", Cluster.ClusterId])) psi.ArgumentList.Add(a);
        foreach (var key in new[] { "SWEEP_TOKEN", "SWEEP_TLS", "SWEEP_GATEWAY", "SWEEP_REDIS" }) psi.Environment.Remove(key);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sweep {string.Join(' ', args)} did not finish");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null) await _client.DisposeAsync();
        await Cluster.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    private static (X509Certificate2, RSA) Authority(string subject)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)), key);
    }

    private static (X509Certificate2, RSA) Issue(X509Certificate2 ca, RSA caKey, string subject)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        // Strict verifiers (Python 3.13's ssl) want the key identifiers of RFC 5280.
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        // The names HTTPS clients check (the silo's API on 127.0.0.1); Orleans' own TLS checks chain and subject only.
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        var generator = X509SignatureGenerator.CreateForRSA(caKey, RSASignaturePadding.Pkcs1);
        var cert = request.Create(ca.SubjectName, generator, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(10),
            RandomNumberGenerator.GetBytes(8));
        return (cert, key);
    }

    private static void Write(string dir, (X509Certificate2 Cert, RSA Key) leaf, X509Certificate2 ca)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tls.crt"), leaf.Cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "tls.key"), leaf.Key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(dir, "ca.crt"), ca.ExportCertificatePem());
    }
}

public sealed class SecurityTests(SecureCluster secure) : IClassFixture<SecureCluster>
{
    private static void OneLine(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line, got:\n" + stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.StartsWith("sweep: ", lines[0]);
    }

    private string Spec(string name, string extra, string? dataset = null)
    {
        string path = Path.Combine(secure.Root, $"{name}.json");
        File.WriteAllText(path, $$"""
            { "name": "{{name}}", "model": "mlp", "training": { "epochs": 1, "trainLimit": 500 }, "lambda": 1e-5{{extra}},
              {{(dataset is null ? "" : $"\"dataset\": {dataset},")}}
              "search": { "strategy": "grid", "space": { "pruneRate": [0.5, 0.9] } } }
            """);
        return path;
    }

    [Fact]
    public async Task A_client_without_the_credential_or_with_a_foreign_certificate_is_refused_in_one_line_with_exit_1()
    {
        var noToken = await secure.SweepAsync("list", "--gateway", secure.Gateway, "--tls", secure.ClientTls);
        Assert.Equal(1, noToken.Code);
        OneLine(noToken.Stderr);
        Assert.Contains("requires a client credential", noToken.Stderr);

        var foreign = await secure.SweepAsync(
            "list", "--gateway", secure.Gateway, "--tls", secure.ForeignTls, "--token-file", secure.TokenFile);
        Assert.Equal(1, foreign.Code);
        OneLine(foreign.Stderr);
        Assert.Contains("refused this client: TLS handshake failed", foreign.Stderr);

        var mixed = await secure.SweepAsync(
            "list", "--gateway", secure.Gateway, "--tls", secure.MixedTls, "--token-file", secure.TokenFile);
        Assert.Equal(1, mixed.Code);
        OneLine(mixed.Stderr);
        Assert.Contains("refused this client", mixed.Stderr);

        // Without a certificate at all: refused within seconds (not after the connect retries), saying TLS is wanted.
        var started = DateTime.UtcNow;
        var plain = await secure.SweepAsync("list", "--gateway", secure.Gateway, "--token-file", secure.TokenFile);
        Assert.Equal(1, plain.Code);
        OneLine(plain.Stderr);
        Assert.Contains("the cluster likely requires TLS", plain.Stderr);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), $"took {DateTime.UtcNow - started}");

        var wrong = Path.Combine(secure.Root, "wrong-token");
        File.WriteAllText(wrong, "not-the-token-but-long-enough");
        var wrongToken = await secure.SweepAsync("list", "--gateway", secure.Gateway, "--tls", secure.ClientTls, "--token-file", wrong);
        Assert.Equal(1, wrongToken.Code);
        OneLine(wrongToken.Stderr);
        Assert.DoesNotContain(secure.Token, wrongToken.Stderr);
        Console.WriteLine(noToken.Stderr + foreign.Stderr + mixed.Stderr + plain.Stderr + wrongToken.Stderr);
    }

    [Fact]
    public async Task With_the_credential_a_sweep_submitted_by_gateway_address_completes()
    {
        string[] auth = ["--gateway", secure.Gateway, "--tls", secure.ClientTls, "--token-file", secure.TokenFile];
        var submit = await secure.SweepAsync(["submit", Spec("secured", ""), .. auth]);
        Assert.True(submit.Code == 0, submit.Stderr + secure.Cluster.Logs());
        string id = submit.Stdout.Trim();
        var watch = await secure.SweepAsync(["watch", id, .. auth]);
        Assert.Equal(0, watch.Code);
        var status = await secure.SweepAsync(["status", id, "--json", .. auth]);
        var s = JsonSerializer.Deserialize<SweepStatus>(status.Stdout, SweepJson.Options)!;
        Assert.Equal(SweepState.Completed, s.State);
        Assert.Equal(2, s.Completed);
    }

    [Fact]
    public async Task A_forged_result_from_a_client_is_refused_and_the_result_stays_the_silos()
    {
        var spec = SpecParser.Parse("""
            { "name": "forged", "training": { "epochs": 3, "trainLimit": 1000 }, "lambda": 1e-5,
              "search": { "strategy": "grid", "space": { "pruneRate": [0.5] } } }
            """, null);
        string id = await secure.Client.SubmitAsync(spec);
        var plan = SearchSpace.Expand(spec)[0];
        var forged = new TrialResult
        {
            TrialId = plan.TrialId, SweepId = id, Status = TrialStatus.Completed, Params = plan.Params,
            Accuracy = 0.987654, WeightSparsity = 0.99, NodeSparsity = 0.99, Silo = "forger",
        };
        var coordinator = secure.Client.Cluster.GetGrain<ISweepCoordinatorGrain>(id);
        var denied = await Assert.ThrowsAsync<SweepAccessDeniedException>(() => coordinator.ReportResultAsync(forged));
        Assert.Contains("internal to the cluster", denied.Message);
        await Assert.ThrowsAsync<SweepAccessDeniedException>(() => secure.Client.Cluster.GetGrain<ISlotRegistryGrain>(0)
            .AdvertiseAsync("forger", new SiloSlots(1000, 0, new Dictionary<string, int>(), 1000)));
        // Results handed in with a submit are refused too on a cluster with a key.
        await Assert.ThrowsAsync<SweepAccessDeniedException>(() => secure.Client.SubmitAsync(spec with { Name = "forged2" }, [forged]));

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!(await secure.Client.GetStatusAsync(id)).IsFinished)
        {
            Assert.True(DateTime.UtcNow < deadline, "the sweep did not finish\n" + secure.Cluster.Logs());
            await Task.Delay(200);
        }
        var result = Assert.Single(await secure.Client.GetResultsAsync(id));
        Assert.Equal(TrialStatus.Completed, result.Status);
        Assert.StartsWith("silo-", result.Silo);
        Assert.NotEqual(0.987654, result.Accuracy);
        Assert.Equal(3, result.Epochs.Count);
    }

    [Fact]
    public async Task Datasets_outside_the_roots_dev_zero_and_gzip_bombs_are_refused_on_submit_and_no_silo_grows()
    {
        var (images, labels) = DatasetRef.Mnist10k.Resolve();
        // A real dataset, readable by the silo's user, but outside the data root.
        string outside = Path.Combine(secure.Root, "outside");
        Directory.CreateDirectory(outside);
        File.Copy(images, Path.Combine(outside, "images.gz"));
        File.Copy(labels, Path.Combine(outside, "labels.gz"));
        // 160 KB of gzip that inflates to 160 MB: ten times the silos' cap.
        string bomb = Path.Combine(secure.DataRoot, "bomb.gz");
        using (var gz = new GZipStream(File.Create(bomb), CompressionLevel.SmallestSize))
        {
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 160; i++) gz.Write(zeros);
        }
        File.Copy(labels, Path.Combine(secure.DataRoot, "labels.gz"));
        string[] auth = ["--gateway", secure.Gateway, "--tls", secure.ClientTls, "--token-file", secure.TokenFile];

        async Task RefuseAllAsync()
        {
            // Outside the roots: only the silo knows its roots, so this is the silo's refusal, through the command line.
            var refused = await secure.SweepAsync(["submit", Spec("outside", "",
                $$"""{ "images": "{{outside}}/images.gz", "labels": "{{outside}}/labels.gz" }"""), .. auth]);
            Assert.Equal(2, refused.Code);
            OneLine(refused.Stderr);
            Assert.Contains("dataset", refused.Stderr);
            Assert.Contains("outside this cluster's data roots", refused.Stderr);
            Console.WriteLine(refused.Stderr);

            string devZeroSpec = Spec("devzero", "", """{ "images": "/dev/zero", "labels": "/dev/zero" }""");
            var devZero = await secure.SweepAsync(["submit", devZeroSpec, .. auth]);
            Assert.Equal(2, devZero.Code);
            OneLine(devZero.Stderr);

            // The library submits without reading anything itself: these refusals are the silo's.
            foreach (var (dataset, why) in new[]
                     {
                         (new DatasetRef { Images = "/dev/zero", Labels = "/dev/zero" }, "outside this cluster's data roots"),
                         (new DatasetRef { Images = bomb, Labels = Path.Combine(secure.DataRoot, "labels.gz") }, "more than"),
                         (new DatasetRef { Images = Path.Combine(outside, "images.gz"), Labels = Path.Combine(outside, "labels.gz") },
                             "outside this cluster's data roots"),
                     })
            {
                var spec = SpecParser.Parse(File.ReadAllText(Spec("lib", "")), null) with { Dataset = dataset };
                var e = await Assert.ThrowsAsync<SpecException>(() => secure.Client.SubmitAsync(spec));
                Assert.Equal("dataset", e.Field);
                Assert.Contains(why, e.Reason);
            }
        }

        // The first round pays the one-time costs of a silo still settling after start-up (JIT, connections, lazy
        // initialization: its peak RSS was seen to grow 60 MB in the seconds after it reported ready on a loaded machine);
        // the second round, measured, is what refusing costs.
        await RefuseAllAsync();
        double before = secure.Cluster.Silos.Max(s => s.PeakMegabytes());
        await RefuseAllAsync();
        double after = secure.Cluster.Silos.Max(s => s.PeakMegabytes());
        // Stated bound: refusing reads nothing into memory, so no silo's peak grows by a tenth of the bomb.
        Assert.True(after - before < 16, $"silo peak RSS grew from {before:F0} MB to {after:F0} MB");
        Console.WriteLine($"silo peak RSS before {before:F0} MB, after the refusals {after:F0} MB");
        Assert.All(secure.Cluster.Silos, s => Assert.False(s.HasExited));
    }

    [Fact]
    public async Task Failed_TLS_handshakes_are_logged_one_line_each_and_rate_limited()
    {
        var silo = secure.Cluster.Silos[0];
        // Other tests of this class fail handshakes too (a foreign client's retries). The silo logs at most 5 a window of
        // 10 s, the window opening at its first failure: after 11 s any window opened before this test is over (and its
        // count told), so this burst opens its own and its first failures are logged one by one.
        await Task.Delay(TimeSpan.FromSeconds(11), TestContext.Current.CancellationToken);
        int seen = silo.Log.Length;
        using var foreign = X509Certificate2.CreateFromPemFile(
            Path.Combine(secure.ForeignTls, "tls.crt"), Path.Combine(secure.ForeignTls, "tls.key"));
        const int attempts = 40;
        for (int i = 0; i < attempts; i++)
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync(System.Net.IPAddress.Loopback, silo.GatewayPort);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (i % 2 == 0)
            {
                // Not TLS at all: a scanner's bytes.
                await tcp.GetStream().WriteAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), cts.Token);
                try { _ = await tcp.GetStream().ReadAsync(new byte[16], cts.Token); }
                catch (Exception e) when (e is IOException or OperationCanceledException) { }
                continue;
            }
            // A certificate of another authority.
            using var ssl = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
            try
            {
                await ssl.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
                {
                    TargetHost = "localhost", ClientCertificates = [foreign],
                }, cts.Token);
                _ = await ssl.ReadAsync(new byte[16], cts.Token);   // TLS 1.3: the server's refusal comes after the client's side
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException
                or OperationCanceledException) { }
        }
        // The count of the lines not written comes in one line when the 10-s window ends.
        string log = "";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!log.Contains("more TLS handshakes failed") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            log = silo.Log[seen..];
        }
        var lines = log.Split('\n').Where(l => l.Contains("TLS", StringComparison.Ordinal)).ToList();
        Console.WriteLine(string.Join("\n", lines));
        Assert.DoesNotContain("   at ", log);
        Assert.DoesNotContain("Authentication failed", log);
        var each = lines.Where(l => l.Contains("TLS handshake with 127.0.0.1:", StringComparison.Ordinal)).ToList();
        // 5 lines a window; the burst may straddle two windows.
        Assert.InRange(each.Count, 5, 10);
        var told = lines.Where(l => l.Contains("more TLS handshakes failed", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(told);
        int total = each.Count + told.Sum(l => int.Parse(System.Text.RegularExpressions.Regex.Match(l, @"(\d+) more TLS").Groups[1].Value));
        // Every failure is logged or counted.
        Assert.True(total >= attempts, $"{total} failures logged or counted for {attempts} refused handshakes");
        Assert.All(secure.Cluster.Silos, s => Assert.False(s.HasExited));
    }

    [Fact]
    public async Task A_sweep_over_its_budget_stops_with_status_cancelled_and_a_reason()
    {
        string[] auth = ["--gateway", secure.Gateway, "--tls", secure.ClientTls, "--token-file", secure.TokenFile];
        var submit = await secure.SweepAsync(["submit", Spec("budget", ", \"trialEpochBudget\": 1"), .. auth]);
        Assert.True(submit.Code == 0, submit.Stderr);
        string id = submit.Stdout.Trim();
        Assert.Equal(0, (await secure.SweepAsync(["watch", id, .. auth])).Code);
        var status = await secure.SweepAsync(["status", id, .. auth]);
        Assert.Equal(0, status.Code);
        Assert.Contains(": cancelled, 2/2 done (1 completed, 0 failed, 1 cancelled)", status.Stdout);
        Assert.Contains("budget spent: 1 of trialEpochBudget 1 trial-epochs started, 1 trial(s) not started", status.Stdout);
    }
}
