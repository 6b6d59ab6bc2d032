using System.Diagnostics;
using Npgsql;

namespace OrleansGateway.LocalCluster;

/// <summary>
/// A PostgreSQL server of this machine's installation, run on a data folder of ours and reachable on
/// loopback only: the embedded database of <c>ogw up</c> and the throwaway server of a test run.
/// PostgreSQL refuses to run as root, so under root every server command runs as the <c>postgres</c> user.
/// </summary>
public sealed class LocalPostgresServer : IAsyncDisposable
{
    private readonly string _binDirectory;
    private readonly bool _deleteOnDispose;
    private bool _stopOnDispose;

    private LocalPostgresServer(string binDirectory, string dataDirectory, int port, bool deleteOnDispose)
    {
        _binDirectory = binDirectory;
        DataDirectory = dataDirectory;
        Port = port;
        _deleteOnDispose = deleteOnDispose;
    }

    public string DataDirectory { get; }

    public int Port { get; }

    /// <summary>
    /// A server was already running on the data folder and this instance attached to it (<see cref="StartAsync"/>);
    /// disposing leaves it running unless <see cref="StopOnDispose"/> says otherwise.
    /// </summary>
    public bool Adopted { get; private set; }

    /// <summary>Makes dispose stop an adopted server too, e.g. one left running by a process that was killed.</summary>
    public void StopOnDispose() => _stopOnDispose = true;

    /// <summary>Connection string for the <c>postgres</c> database as the <c>postgres</c> superuser.</summary>
    public string ConnectionString => DatabaseConnectionString("postgres");

    public string DatabaseConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database }.ConnectionString;

    /// <summary>
    /// Starts (creating it with initdb on first use) a server on <paramref name="dataDirectory"/>, or attaches
    /// to the one already running there. A throwaway server trades durability for speed and is deleted on dispose.
    /// </summary>
    public static async Task<LocalPostgresServer> StartAsync(string dataDirectory, int port, bool throwaway,
        CancellationToken cancellationToken = default)
    {
        var server = new LocalPostgresServer(FindBinDirectory(), Path.GetFullPath(dataDirectory), port, throwaway);
        await server.StartAsync(throwaway, cancellationToken);
        return server;
    }

    /// <summary>
    /// The folder with <c>initdb</c> and <c>pg_ctl</c>: <c>OGW_PG_BIN</c> when set, else the newest Debian
    /// installation under /usr/lib/postgresql (not on PATH there), else PATH.
    /// </summary>
    public static string FindBinDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("OGW_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(Path.Combine(configured, "pg_ctl"))
                ? configured
                : throw new InvalidOperationException($"OGW_PG_BIN={configured} holds no pg_ctl");
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(dir => (dir, version: int.TryParse(Path.GetFileName(dir), out var v) ? v : -1))
                .Where(x => x.version > 0 && File.Exists(Path.Combine(x.dir, "bin", "pg_ctl")))
                .OrderByDescending(x => x.version)
                .Select(x => Path.Combine(x.dir, "bin"))
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "initdb")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install them (Debian: apt-get install -y postgresql) or set OGW_PG_BIN");
    }

    public static bool RunningAsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    public async Task CreateDatabaseAsync(string database, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        await using var command = dataSource.CreateCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"")}\"");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await RunAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"], cancellationToken);
        _stopOnDispose = false;
    }

    /// <summary>
    /// An outage as clients see one: a fast stop (open sessions are cut, as on a crash or a failover), then
    /// <paramref name="downtime"/> without a server, then a start on the same folder and port.
    /// </summary>
    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken = default)
    {
        var stopOnDispose = _stopOnDispose;
        await StopAsync(cancellationToken);
        await Task.Delay(downtime, cancellationToken);
        await StartAsync(_deleteOnDispose, cancellationToken);
        _stopOnDispose = stopOnDispose;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopOnDispose)
        {
            await StopAsync();
        }

        if (_deleteOnDispose)
        {
            Directory.Delete(Path.GetDirectoryName(DataDirectory)!, recursive: true);
        }
    }

    private async Task StartAsync(bool throwaway, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            Directory.CreateDirectory(DataDirectory);
            if (RunningAsRoot)
            {
                // The postgres user must own the data folder and be able to reach it.
                await RunProcessAsync("chown", ["-R", "postgres:postgres", Path.GetDirectoryName(DataDirectory)!], cancellationToken);
            }

            await RunAsync("initdb", ["-D", DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"], cancellationToken);
        }

        if (await IsRunningAsync(cancellationToken))
        {
            Adopted = true;
            return;
        }

        // Loopback TCP only, no Unix socket (its default folder may not exist or be writable).
        var options = $"-c listen_addresses=127.0.0.1 -c port={Port} -c unix_socket_directories='' -c max_connections=500";
        if (throwaway)
        {
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        }

        await RunAsync("pg_ctl", ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(DataDirectory, "server.log"), "-o", options],
            cancellationToken);
        _stopOnDispose = true;
    }

    private async Task<bool> IsRunningAsync(CancellationToken cancellationToken)
    {
        var (exitCode, _) = await TryRunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["status", "-D", DataDirectory], cancellationToken);
        return exitCode == 0;
    }

    private async Task RunAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var (exitCode, output) = await TryRunAsync(Path.Combine(_binDirectory, tool), arguments, cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed (exit {exitCode}): {output.Trim()}");
        }
    }

    private static async Task RunProcessAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var (exitCode, output) = await RunRawAsync(file, arguments, cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed (exit {exitCode}): {output.Trim()}");
        }
    }

    // In a session of its own: Ctrl+C in the terminal must not reach the server (SIGINT is its fast shutdown)
    // while the silos still drain into it.
    private static Task<(int ExitCode, string Output)> TryRunAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        RunningAsRoot
            ? RunRawAsync("setsid", ["--wait", "runuser", "-u", "postgres", "--", file, .. arguments], cancellationToken)
            : RunRawAsync("setsid", ["--wait", file, .. arguments], cancellationToken);

    private static async Task<(int ExitCode, string Output)> RunRawAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // The server inherits this folder; the postgres user may not be allowed to read ours.
            WorkingDirectory = "/",
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }
}
