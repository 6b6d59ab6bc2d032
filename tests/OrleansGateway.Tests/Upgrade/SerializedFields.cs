using System.Text.Json;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.Session;
using Orleans.Serialization.WireProtocol;

namespace OrleansGateway.Tests.Upgrade;

/// <summary>
/// The fields a serialized value holds, without reading their values: what an older reader finds in a newer writer's
/// bytes. A newer build must write at least the fields an older one wrote, or the older one reads defaults.
/// </summary>
public static class SerializedFields
{
    /// <summary>
    /// Orleans' binary format: the path of field ids of every field, nested objects and collections included
    /// (<c>/0.2/0.1</c>: field 1 of the object in field 2; the number before the dot counts base-class levels).
    /// </summary>
    public static SortedSet<string> OfOrleansBinary(byte[] bytes, SerializerSessionPool sessions)
    {
        using var session = sessions.GetSession();
        var reader = Reader.Create(bytes, session);
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        var root = reader.ReadFieldHeader();
        if (root.WireType == WireType.TagDelimited)
        {
            CollectObject(ref reader, "", paths);
        }

        return paths;
    }

    /// <summary>JSON: the path of every property name (array items as <c>[]</c>), <c>$type</c> and the like included.</summary>
    public static SortedSet<string> OfJson(byte[] utf8)
    {
        using var document = JsonDocument.Parse(utf8);
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        CollectJson(document.RootElement, "", paths);
        return paths;
    }

    private static void CollectObject<TInput>(ref Reader<TInput> reader, string path, SortedSet<string> paths)
    {
        uint id = 0;
        var level = 0;
        while (true)
        {
            var field = reader.ReadFieldHeader();
            if (field.IsEndObject)
            {
                return;
            }

            if (field.IsEndBaseFields)
            {
                (id, level) = (0, level + 1);
                continue;
            }

            id += field.FieldIdDelta;
            var fieldPath = $"{path}/{level}.{id}";
            paths.Add(fieldPath);
            if (field.WireType == WireType.TagDelimited)
            {
                CollectObject(ref reader, fieldPath, paths);
            }
            else
            {
                reader.SkipField(field);
            }
        }
    }

    private static void CollectJson(JsonElement element, string path, SortedSet<string> paths)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var propertyPath = $"{path}/{property.Name}";
                    paths.Add(propertyPath);
                    CollectJson(property.Value, propertyPath, paths);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CollectJson(item, $"{path}[]", paths);
                }

                break;
        }
    }
}
