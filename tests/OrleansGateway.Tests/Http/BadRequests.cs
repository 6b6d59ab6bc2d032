using System.Text;

namespace OrleansGateway.Tests.Http;

/// <summary>One generated request; <see cref="Body"/> null for none. Every one has at least one fault that must refuse it.</summary>
public sealed record FuzzRequest(string Method, string Path, byte[]? Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers)
{
    public override string ToString() =>
        $"{Method} {Path}{(Body is null ? "" : $" ({Body.Length} bytes of {ContentType ?? "no type"})")}{string.Concat(Headers.Select(h => $" [{h.Name}: {h.Value}]"))}";
}

/// <summary>
/// The pieces of bad requests shared by the silo's and the dashboard's fuzzers: ids that break the id rule, ids that
/// exist nowhere, query values that no parameter takes, junk header values, bodies that are not a message.
/// </summary>
public sealed class BadRequests(Random random)
{
    public const string GhostPrefix = "fz-ghost-";

    public Random Random { get; } = random;

    public T Pick<T>(IReadOnlyList<T> items) => items[Random.Next(items.Count)];

    /// <summary>A valid id of a session no request creates: refused with 404 wherever it is read or acted on.</summary>
    public string GhostId() => $"{GhostPrefix}{Random.Next(1_000_000)}";

    /// <summary>An id the id rule refuses, percent-encoded for the path (empty ones route nowhere: 404 or 405).</summary>
    public string BadIdSegment() => Uri.EscapeDataString(Pick<Func<string>>(
    [
        () => new string('a', 129 + Random.Next(2000)),
        () => $"bad {Random.Next()}",
        () => "é" + Random.Next(),
        () => "日本語",
        () => "🙂",
        () => "a\u202eb",
        () => "tab\there",
        () => "line\nbreak",
        () => "<script>",
        () => "a'b\"c",
        () => "a;b",
        () => "a/b",
        () => "%00",
        () => "%zz",
        () => "..",
        () => "a\\b",
        () => "{id}",
        () => Junk(Random.Next(1, 40)),
    ])());

    /// <summary>Either kind of id that cannot be served, in path form.</summary>
    public string UnservableIdSegment() => Random.Next(3) == 0 ? GhostId() : BadIdSegment();

    /// <summary>A value no whole-number parameter takes (within its range).</summary>
    public string BadNumber() => Pick<Func<string>>(
    [
        () => "-1",
        () => $"-{Random.Next(1, int.MaxValue)}",
        () => "99999999999999999999999",
        () => $"{(long)int.MaxValue + Random.Next(1, 1000)}",
        () => "1.5",
        () => "1e3",
        () => "0x10",
        () => "ten",
        () => "１２",
        () => "NaN",
        () => "1,2",
        // Led by a letter: junk alone may be "3", a good number.
        () => $"x{Junk(Random.Next(1, 20))}",
    ])();

    /// <summary>A query string in which <paramref name="name"/> is bad: a bad value, or given twice.</summary>
    public string BadQuery(string name, Func<string> badValue) => Random.Next(4) == 0
        ? $"?{name}=1&{name}={Uri.EscapeDataString(badValue())}"
        : $"?{name}={Uri.EscapeDataString(badValue())}";

    /// <summary>A header value no reader takes: printable ASCII only, since other bytes do not leave the client.</summary>
    public string JunkHeader() => Pick<Func<string>>(
    [
        () => "abc",
        () => "-1",
        () => "1.5",
        () => "99999999999999999999999",
        () => $"{Random.Next()},{Random.Next()}",
        () => Junk(Random.Next(1, 200)).Replace(" ", "x"),
    ])();

    /// <summary>Printable ASCII junk of the given length, with no letters that could spell a type name.</summary>
    public string Junk(int length)
    {
        const string alphabet = "0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~ qxz";
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            text.Append(alphabet[Random.Next(alphabet.Length)]);
        }

        return text.ToString();
    }

    /// <summary>A body that is not a message a session could take, and its content type.</summary>
    public (byte[] Body, string? ContentType) BadMessageBody()
    {
        var contentType = Pick<string?>(["application/json", "application/json", "text/plain", "application/x-www-form-urlencoded", "application/xml", null]);
        var text = Pick<Func<string>>(
        [
            () => "",
            () => "{",
            () => "{\"text\":",
            () => "null",
            () => "42",
            () => "\"hi\"",
            () => "[\"hi\"]",
            () => "{}",
            () => "{\"messageId\":\"m1\"}",
            () => "{\"text\":null}",
            () => $"{{\"text\":{Random.Next()}}}",
            () => "{\"text\":true}",
            () => "{\"text\":[\"a\"]}",
            () => "{\"text\":{\"a\":{\"b\":[1,2,{\"c\":null}]}}}",
            () => "{\"text\":\"hi\",\"messageId\":42}",
            () => "{\"text\":\"hi\",\"messageId\":\"has space\"}",
            () => $"{{\"text\":\"hi\",\"messageId\":\"{new string('m', 129)}\"}}",
            () => "{\"text\":\"work 0x10\"}",
            () => "{\"text\":\"work 10001x10\"}",
            () => $"{{\"text\":\"{new string('x', 64 * 1024 + 1 + Random.Next(1000))}\"}}",
            () => $"{{\"text\":\"hi\",\"pad\":\"{new string('x', 512 * 1024)}\"}}",
            () => new string('[', 70 + Random.Next(1000)) + "\"hi\"" + new string(']', 70),
            () => "{\"text\":\"\\ud800\"}",
            () => "{\"text\":\"hi\"" + string.Concat(Enumerable.Repeat(",\"text\":", 3)) + "}",
            () => "text=hi",
            () => "<text>hi</text>",
            () => Junk(Random.Next(1, 5000)),
        ])();
        var bytes = Encoding.UTF8.GetBytes(text);
        if (Random.Next(10) == 0)
        {
            // Bytes that are not UTF-8 at all.
            bytes = [.. bytes, 0xff, 0xfe, 0xc0, 0x80];
        }

        return (bytes, contentType);
    }

    public byte[] AnyBody() => Encoding.UTF8.GetBytes(Pick<Func<string>>(
    [
        () => "{}",
        () => "{\"text\":\"hi\"}",
        () => Junk(Random.Next(1, 3000)),
        () => new string('{', Random.Next(1, 500)),
    ])());
}
