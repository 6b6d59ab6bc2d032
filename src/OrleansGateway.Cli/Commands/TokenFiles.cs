namespace OrleansGateway.Cli.Commands;

/// <summary>An operator token kept in a file (a mounted Secret, a file of mode 600), as <c>--token-file</c> and <c>OGW_OPERATOR_TOKEN_FILE</c> name it.</summary>
public static class TokenFiles
{
    // A token is a line; anything bigger is the wrong file, not a token to send.
    private const int MaxBytes = 64 * 1024;

    /// <summary>The file's text without its trailing newline; a usage <see cref="CliError"/> naming <paramref name="source"/> when it holds none.</summary>
    public static string Read(string path, string source)
    {
        string text;
        try
        {
            var file = new FileInfo(path);
            if (file.Exists && file.Length > MaxBytes)
            {
                throw CliError.Usage($"{source} '{path}' is {file.Length} bytes: not a token file");
            }

            text = File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw CliError.Usage($"cannot read the operator token from {source} '{path}': {exception.Message}");
        }

        // `echo token > file` and editors end the file with a newline; Kubernetes Secrets do not.
        var token = text.TrimEnd('\r', '\n');
        return token.Length > 0 ? token : throw CliError.Usage($"{source} '{path}' is empty: it holds no operator token");
    }
}
