namespace OrleansGateway.Cli.Commands;

/// <summary>
/// The exit codes of <c>ogw</c>, numbered here only (the README's table lists them): a script can tell a command line
/// to fix from a server that said no, and both from a server worth trying again later.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>
    /// The server refused (401, 404, 409 and every other answer but the ones of <see cref="Unavailable"/>), or the
    /// command ran and failed: a database error, a demo that lost a turn, a local cluster that could not start.
    /// </summary>
    public const int Failed = 1;

    /// <summary>A bad command line, checked before any request: an unknown command or option, a malformed value, no token.</summary>
    public const int Usage = 2;

    /// <summary>
    /// sysexits' EX_UNAVAILABLE: the server could not be reached (connection refused, a name that does not resolve, no
    /// answer in time) or said it cannot serve now (502, 503, 504: a proxy without its backend, a dashboard that reaches no
    /// silo). Nothing was done; the same command may work later. A 500 is <see cref="Failed"/>: a bug, not an outage.
    /// </summary>
    public const int Unavailable = 69;

    /// <summary>Ctrl+C or SIGTERM: 128 + SIGINT, as a shell reports it.</summary>
    public const int Interrupted = 130;
}
