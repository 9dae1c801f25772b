using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sweep.Grains.Security;

/// <summary>
/// A TLS identity as a Kubernetes TLS Secret mounts it: a folder with tls.crt (certificate, PEM), tls.key (its private
/// key, PEM) and ca.crt (the cluster's certificate authority, PEM). Peers are trusted when their certificate chains to
/// that authority (and only it: the machine's trust store plays no part; host names play none either, silos are
/// reached by pod IP). Silos share one certificate subject (e.g. CN=sweep-silo); the silo-to-silo port accepts only
/// that subject, the gateway any certificate of the authority (clients get their own, with another subject).
/// </summary>
public sealed class SweepTls
{
    public const string CertificateFile = "tls.crt", KeyFile = "tls.key", AuthorityFile = "ca.crt";

    private SweepTls(X509Certificate2 certificate, X509Certificate2Collection authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    /// <summary>This process's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }
    public X509Certificate2Collection Authority { get; }

    /// <summary>Reads the folder; an <see cref="ArgumentException"/> names the file and the problem (one line).</summary>
    public static SweepTls Load(string directory, string setting)
    {
        string cert = Path.Combine(directory, CertificateFile), key = Path.Combine(directory, KeyFile);
        string ca = Path.Combine(directory, AuthorityFile);
        foreach (string file in new[] { cert, key, ca })
            if (!File.Exists(file)) throw new ArgumentException($"{setting}: {file}: file not found");
        X509Certificate2 certificate;
        try { certificate = X509Certificate2.CreateFromPemFile(cert, key); }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"{setting}: {cert} + {key}: not a certificate and its key ({e.Message})");
        }
        var authority = new X509Certificate2Collection();
        try { authority.ImportFromPemFile(ca); }
        catch (CryptographicException e) { throw new ArgumentException($"{setting}: {ca}: not a PEM certificate ({e.Message})"); }
        if (authority.Count == 0) throw new ArgumentException($"{setting}: {ca}: holds no certificate");
        // .NET on Linux uses a key created from PEM as is; exporting to PKCS#12 keeps it usable by SslStream everywhere.
        certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        return new SweepTls(certificate, authority);
    }

    /// <summary>
    /// Whether a peer's certificate chains to the authority (within its validity) and, when <paramref name="subject"/>
    /// is given, has exactly that subject.
    /// </summary>
    public bool Trusts(X509Certificate2? peer, string? subject = null)
    {
        if (peer is null) return false;
        if (subject is not null && !string.Equals(peer.Subject, subject, StringComparison.Ordinal)) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }
}
