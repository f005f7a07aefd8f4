using System.Security.Cryptography;
using System.Text;

namespace DeepCluster.Api;

/// <summary>
/// The bearer token of the control API, kept in a file (<c>deepcluster.host.api.token-file</c>): read when it exists,
/// otherwise made (32 random bytes, hex) and written readable by its owner only.
/// </summary>
public static class ApiToken
{
    const string Key = "deepcluster.host.api.token-file";

    /// <param name="log">Told, in one line, when a new token is written.</param>
    public static string ReadOrCreate(string file, Action<string> log)
    {
        if (!File.Exists(file))
        {
            var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
                var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                using (var stream = new FileStream(file, create))
                    stream.Write(Encoding.ASCII.GetBytes(token + "\n"));
                log($"control API: wrote a new bearer token to {file} (readable by its owner only)");
                return token;
            }
            catch (IOException) when (File.Exists(file)) { /* another host made it first: use theirs */ }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { throw new IOException($"{Key} {file}: cannot write a new token there ({e.Message})."); }
        }
        string text;
        try { text = File.ReadAllText(file).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new IOException($"{Key} {file}: cannot be read ({e.Message})."); }
        if (text.Length == 0 || text.Any(char.IsWhiteSpace))
            throw new InvalidDataException($"{Key} {file}: expected one token on one line; delete the file and a new one is made.");
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(file) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            log($"control API: warning: {file} is readable by other users; chmod 600 it");
        return text;
    }

    /// <summary>Whether <paramref name="given"/> is the token, in time that does not depend on where they differ.</summary>
    public static bool Matches(string token, string? given)
    {
        if (given is null) return false;
        // Hashing first makes the comparison constant-time in the length as well.
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(token)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));
    }
}
