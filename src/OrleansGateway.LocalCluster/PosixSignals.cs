using System.Runtime.InteropServices;

namespace OrleansGateway.LocalCluster;

/// <summary>Signals to other processes. .NET's Process.Kill is SIGKILL only; a graceful stop needs SIGTERM.</summary>
public static partial class PosixSignals
{
    public const int Interrupt = 2;
    public const int Terminate = 15;
    public const int Continue = 18;
    public const int Stop = 19;

    public static void Send(int processId, int signal)
    {
        if (kill(processId, signal) != 0)
        {
            throw new InvalidOperationException($"could not send signal {signal} to pid {processId}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
