using Npgsql;
using NpgsqlTypes;

namespace OrleansGateway.Storage;

/// <summary>Parameter code the stores share.</summary>
internal static class SqlParameters
{
    /// <summary>
    /// A parameter that may be SQL NULL. Typed, since Npgsql infers no type from <see cref="DBNull"/> and PostgreSQL
    /// cannot always infer one from the statement (e.g. <c>@turn_id IS NULL</c>).
    /// </summary>
    public static NpgsqlParameter AddNullable(this NpgsqlParameterCollection parameters, string name, NpgsqlDbType type, object? value) =>
        parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });
}
