using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DeepCluster.Api;

/// <summary>
/// Which HTTPS hosts a client trusts: those the system trusts, and those whose certificate is (or is signed by) one of
/// the certificates given with <c>--cacert</c> — as curl does, so a self-signed host certificate can be used.
/// </summary>
public static class HostTrust
{
    /// <summary>
    /// The certificates of a <c>--cacert</c> file: PEM (one or more <c>CERTIFICATE</c> blocks), DER, or PKCS#12 (the
    /// host's own certificate file; <paramref name="password"/> opens it when it has one).
    /// </summary>
    public static X509Certificate2Collection Load(string file, string? password = null)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"--cacert {file}: file not found.");
        var certificates = new X509Certificate2Collection();
        try
        {
            var head = File.ReadAllText(file);
            if (head.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                certificates.ImportFromPemFile(file);
                if (certificates.Count == 0) throw new InvalidDataException($"--cacert {file}: no CERTIFICATE block in this PEM file.");
                return certificates;
            }
            try { certificates.Add(X509CertificateLoader.LoadCertificateFromFile(file)); }
            catch (CryptographicException) { certificates.AddRange(X509CertificateLoader.LoadPkcs12CollectionFromFile(file, password)); }
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"--cacert {file}: not a PEM, DER or PKCS#12 certificate, or a PKCS#12 file with another password " +
                                           $"({e.Message.Trim()}).");
        }
        return certificates;
    }

    /// <summary>
    /// Whether to go on with a host that presented <paramref name="certificate"/>; <paramref name="problem"/> says why
    /// not, in words for the user.
    /// </summary>
    public static bool Accept(X509Certificate? certificate, SslPolicyErrors errors, string host, X509Certificate2Collection? trusted,
                              out string? problem)
    {
        problem = null;
        if (errors == SslPolicyErrors.None) return true;
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            problem = "the host sent no certificate";
        else if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            problem = $"the host's certificate is not made out to {host}";
        else if (trusted is null || trusted.Count == 0)
            problem = "the host's certificate is not trusted (self-signed?); give it, or the CA that signed it, with --cacert FILE";
        else
        {
            using var leaf = certificate as X509Certificate2 is { } c2 ? X509CertificateLoader.LoadCertificate(c2.RawData)
                                                                    : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain.Build(leaf)) return true;
            problem = "the host's certificate is not the --cacert certificate nor signed by it (" +
                      string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct()) + ")";
        }
        return false;
    }
}
