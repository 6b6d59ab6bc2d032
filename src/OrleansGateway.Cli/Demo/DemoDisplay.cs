using System.Diagnostics;
using Spectre.Console;

namespace OrleansGateway.Cli.Demo;

/// <summary>
/// Shows a <see cref="DemoBoard"/> while the demo runs: a live panel in a terminal; in a log or a pipe (where a
/// redrawn panel would be noise) each action once as it happens and a status line every two seconds.
/// </summary>
public static class DemoDisplay
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan StatusEvery = TimeSpan.FromSeconds(2);

    public static Task<T> ShowWhileAsync<T>(DemoBoard board, Func<Task<T>> work) =>
        AnsiConsole.Profile.Capabilities is { Interactive: true, Ansi: true } ? LiveAsync(board, work) : LinesAsync(board, work);

    private static Task<T> LiveAsync<T>(DemoBoard board, Func<Task<T>> work) =>
        AnsiConsole.Live(board.Render()).AutoClear(false).StartAsync(async context =>
        {
            var running = work();
            while (!running.IsCompleted)
            {
                context.UpdateTarget(board.Render());
                await Task.WhenAny(running, Task.Delay(Refresh));
            }

            context.UpdateTarget(board.Render());
            return await running;
        });

    private static async Task<T> LinesAsync<T>(DemoBoard board, Func<Task<T>> work)
    {
        var running = work();
        var printed = 0;
        var lastStatus = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (var (at, text) in board.LogFrom(printed))
            {
                Console.WriteLine($"{at.TotalSeconds,6:0.0} s  {text}");
                printed++;
            }

            if (running.IsCompleted)
            {
                Console.WriteLine(board.StatusLine());
                return await running;
            }

            if (clock.Elapsed - lastStatus >= StatusEvery)
            {
                Console.WriteLine(board.StatusLine());
                lastStatus = clock.Elapsed;
            }

            await Task.WhenAny(running, Task.Delay(Refresh));
        }
    }
}
