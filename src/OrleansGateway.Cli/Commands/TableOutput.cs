using Spectre.Console;
using Spectre.Console.Rendering;

namespace OrleansGateway.Cli.Commands;

/// <summary>
/// The one way every <c>ogw</c> command prints a table: boxes for a terminal; for a pipe or a file, plain rows, one a
/// line, with no box drawing and no wrapping (a cell's line breaks become spaces), so that grep and cut see whole rows.
/// </summary>
public static class TableOutput
{
    private const string Gap = "  ";

    // Wide enough that no cell is ever wrapped when it is rendered to text.
    private const int Unlimited = 1 << 20;

    /// <summary>
    /// Called once at the start: in a pipe or a file there is no terminal width to respect, so no line is wrapped
    /// (Spectre.Console assumes 80 columns there), tables or not.
    /// </summary>
    public static void UnwrapWhenRedirected()
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Unlimited;
        }
    }

    public static void Write(Table table)
    {
        if (!Console.IsOutputRedirected)
        {
            AnsiConsole.Write(table);
            return;
        }

        if (table.Title is { } title)
        {
            Console.Out.WriteLine(Markup.Remove(title.Text));
        }

        IEnumerable<IEnumerable<IRenderable>> rows = table.Rows;
        WritePlain(table.ShowHeaders ? [table.Columns.Select(c => c.Header), .. rows] : rows);
    }

    public static void Write(Grid grid)
    {
        if (Console.IsOutputRedirected)
        {
            WritePlain(grid.Rows);
        }
        else
        {
            AnsiConsole.Write(grid);
        }
    }

    private static void WritePlain(IEnumerable<IEnumerable<IRenderable>> rows)
    {
        var cells = rows.Select(row => row.Select(PlainText).ToList()).ToList();
        var widths = Enumerable.Range(0, cells.Count == 0 ? 0 : cells.Max(row => row.Count))
            .Select(column => cells.Max(row => column < row.Count ? row[column].Length : 0))
            .ToList();
        foreach (var row in cells)
        {
            // Every column padded to its widest cell, but the last: no trailing blanks.
            var padded = row.Select((cell, column) => column == row.Count - 1 ? cell : cell.PadRight(widths[column]));
            Console.Out.WriteLine(string.Join(Gap, padded).TrimEnd());
        }
    }

    /// <summary>What the cell shows, without styles; line breaks and other control characters as spaces.</summary>
    private static string PlainText(IRenderable cell)
    {
        var options = RenderOptions.Create(AnsiConsole.Console);
        var text = string.Concat(cell.Render(options, Unlimited).Select(segment => segment.IsLineBreak ? " " : segment.IsControlCode ? "" : segment.Text));
        return string.Concat(text.Select(c => char.IsControl(c) ? ' ' : c)).TrimEnd();
    }
}
