using System.Net;
using System.Net.Sockets;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>Loopback ports for commands that number their silos' ports up from a first one (<c>ogw up</c>, <c>ogw demo</c>).</summary>
public static class FreePorts
{
    /// <summary>The first of <paramref name="count"/> consecutive free loopback ports.</summary>
    public static int Run(int count)
    {
        while (true)
        {
            var first = PostgresFixture.FreeTcpPort();
            if (Enumerable.Range(first, count).All(port => !IsListening(port) && CanBind(port)))
            {
                return first;
            }
        }
    }

    public static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// The process that listens on loopback <paramref name="port"/> (from <c>/proc/net/tcp</c> and the processes' socket
    /// descriptors), for a test to kill a process that another one started.
    /// </summary>
    public static int ListeningProcessId(int port)
    {
        var hexPort = $":{port:X4}";
        var inode = File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields[1].EndsWith(hexPort, StringComparison.Ordinal) && fields[3] == "0A")
            .Select(fields => fields[9])
            .FirstOrDefault() ?? throw new InvalidOperationException($"nothing listens on port {port}");
        foreach (var process in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(Path.Combine(process, "fd"))
                    .Any(fd => new FileInfo(fd).LinkTarget == $"socket:[{inode}]"))
                {
                    return int.Parse(Path.GetFileName(process));
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // A process that ended meanwhile, or one we may not look into.
            }
        }

        throw new InvalidOperationException($"no process holds the socket listening on port {port}");
    }

    public static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
