namespace OrleansGateway.Benchmarks;

/// <summary>
/// CPU time (user + system) of a process and of the PostgreSQL server, read from /proc. On a busy machine elapsed
/// time depends on what else runs; the CPU a piece of work costs does not, so the restart benchmark prints both.
/// Null where /proc is not there.
/// </summary>
internal static class CpuTime
{
    // USER_HZ: 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    public static TimeSpan? OfProcess(int processId) =>
        ReadStat(processId) is { } stat ? Seconds(stat.UserTicks + stat.SystemTicks) : null;

    /// <summary>
    /// The server's total: the postmaster with its reaped children (exited backends) plus the live backends.
    /// </summary>
    public static TimeSpan? OfPostgres(string dataDirectory)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var postmaster) || ReadStat(postmaster) is not { } root)
        {
            return null;
        }

        var ticks = root.UserTicks + root.SystemTicks + root.ChildUserTicks + root.ChildSystemTicks;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && ReadStat(pid) is { } stat && stat.ParentId == postmaster)
            {
                ticks += stat.UserTicks + stat.SystemTicks;
            }
        }

        return Seconds(ticks);
    }

    private static TimeSpan Seconds(long ticks) => TimeSpan.FromSeconds(ticks / TicksPerSecond);

    private sealed record Stat(int ParentId, long UserTicks, long SystemTicks, long ChildUserTicks, long ChildSystemTicks);

    private static Stat? ReadStat(int processId)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, the fields after the last ')' do not.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
        return new Stat(int.Parse(fields[1]), long.Parse(fields[11]), long.Parse(fields[12]), long.Parse(fields[13]), long.Parse(fields[14]));
    }
}
