using System.Text.Json;
using Json.Schema;

namespace OrleansGateway.Agents.Tools;

/// <summary>A tool's argument schema: what the model is told, and what its arguments are checked against before a call.</summary>
public sealed class ArgumentSchema
{
    private const string AnyObject = """{"type":"object","properties":{}}""";

    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List };

    private readonly JsonSchema _schema;

    private ArgumentSchema(JsonElement declaration, JsonSchema schema) => (Declaration, _schema) = (declaration, schema);

    /// <summary>The schema as the model's function declaration carries it.</summary>
    public JsonElement Declaration { get; }

    /// <summary>Parses <paramref name="schemaText"/> (an object accepting anything when empty); throws when it is no schema.</summary>
    public static ArgumentSchema Parse(string? schemaText)
    {
        var text = string.IsNullOrWhiteSpace(schemaText) ? AnyObject : schemaText;
        using var document = JsonDocument.Parse(text);
        return From(document.RootElement);
    }

    public static ArgumentSchema From(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException($"a schema must be a JSON object, not {schema.ValueKind}");
        }

        // The built schema keeps the element: a clone outlives the caller's document. A registry of its own: schemas of
        // different tools may share an $id without clashing.
        var kept = schema.Clone();
        var built = JsonSchema.Build(kept, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        return new ArgumentSchema(kept, built);
    }

    /// <summary>Null when <paramref name="arguments"/> satisfy the schema, else what is wrong, for the model to read.</summary>
    public string? Problem(JsonElement arguments)
    {
        var results = _schema.Evaluate(arguments, Evaluation);
        if (results.IsValid)
        {
            return null;
        }

        var errors = (results.Details ?? [])
            .Prepend(results)
            .Where(detail => detail.Errors is { Count: > 0 })
            .SelectMany(detail => detail.Errors!.Select(error => $"{Where(detail.InstanceLocation.ToString())}: {error.Value}"))
            .Distinct()
            .ToList();
        return errors.Count == 0 ? "the arguments do not match the tool's schema" : string.Join("; ", errors);
    }

    private static string Where(string pointer) => pointer.Length == 0 ? "arguments" : $"arguments{pointer}";
}
