using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DeepCluster.Actors.Tests;

/// <summary>A self-signed certificate made by the test, written as a password-protected PKCS#12 file.</summary>
public static class TestCertificate
{
    /// <summary>Writes a new self-signed certificate (RSA 2048, CN=<paramref name="name"/>, valid for a day) with its
    /// private key to <paramref name="path"/>; returns its thumbprint.</summary>
    public static string Write(string path, string password, string name = "deepcluster-test", bool withKey = true)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        // Server and client authentication: every node is both in mutual TLS.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var bytes = withKey
            ? certificate.Export(X509ContentType.Pkcs12, password)
            : X509CertificateLoader.LoadCertificate(certificate.RawData).Export(X509ContentType.Pkcs12, password);
        File.WriteAllBytes(path, bytes);
        return certificate.Thumbprint;
    }
}
