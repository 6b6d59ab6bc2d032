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
            if (first + count <= 65535 && Enumerable.Range(first, count).All(port => !IsListening(port) && CanBind(port)))
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

    private static bool CanBind(int port)
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
