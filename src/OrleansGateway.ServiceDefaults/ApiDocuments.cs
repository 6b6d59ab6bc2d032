using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using OrleansGateway.Sessions;

namespace OrleansGateway.ServiceDefaults;

/// <summary>
/// The OpenAPI document of a host's API at <c>/openapi/v1.json</c>, public (it describes, it holds no data). The same
/// bytes wherever the host runs, so that a checked-in copy can be compared with it: no server addresses (a test's
/// ports are random), a fixed title rather than the entry assembly's name.
/// </summary>
public static class ApiDocuments
{
    public const string DocumentName = "v1";

    public const string Path = $"/openapi/{DocumentName}.json";

    public static IServiceCollection AddApiDocument(this IServiceCollection services, string title, string description) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = title, Version = DocumentName, Description = description };
                document.Servers = [];
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                // The members every problem of ours has beyond RFC 9457's (ApiProblemWriter).
                if (context.JsonTypeInfo.Type == typeof(ProblemDetails) && schema.Properties is { } properties)
                {
                    properties[ApiProblems.ErrorMember] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String,
                        Description = "The reason, as in detail: what clients of release 0.1 read.",
                    };
                    properties["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String };
                }

                return Task.CompletedTask;
            });
        });

    /// <summary>
    /// The one document at its own path: with a <c>{documentName}</c> route, a request for any other name would get the
    /// OpenAPI package's plain-text 404 rather than a problem (without the route value the package serves "v1").
    /// </summary>
    public static IEndpointConventionBuilder MapApiDocument(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapOpenApi(Path).AllowAnonymous();
}

/// <summary>
/// Parameters that the handlers read themselves (to refuse a bad one with a reason, rather than with binding's bare
/// 400), so that the document does not see them unless told.
/// </summary>
public static class ApiDocumentParameters
{
    public static TBuilder WithQuery<TBuilder>(this TBuilder builder, string name, JsonSchemaType type, string description)
        where TBuilder : IEndpointConventionBuilder => builder.WithParameter(name, ParameterLocation.Query, type, description);

    public static TBuilder WithHeader<TBuilder>(this TBuilder builder, string name, JsonSchemaType type, string description)
        where TBuilder : IEndpointConventionBuilder => builder.WithParameter(name, ParameterLocation.Header, type, description);

    /// <summary>A page of a session's turns: the same parameters and document in both APIs, only the default differs.</summary>
    public static RouteHandlerBuilder WithTurnPage(this RouteHandlerBuilder builder, int defaultTurns) => builder
        .WithSummary("A page of the session's turns, newest first")
        .WithQuery("before", JsonSchemaType.String, "The cursor of the page: turns older than this turn id (the newest without it)")
        .WithQuery("limit", JsonSchemaType.Integer, $"How many turns, 1 to {TurnPageLimits.MaxTurns} (default {defaultTurns})")
        .Produces<TurnPageResponse>();

    /// <summary>
    /// The JSON body a handler reads itself. Not <c>Accepts&lt;T&gt;()</c>: its metadata makes routing refuse any other
    /// content type with 415, where the API has always read the body whatever its declared type.
    /// </summary>
    public static RouteHandlerBuilder WithJsonBody<T>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken) },
                },
            };
        });

    private static TBuilder WithParameter<TBuilder>(this TBuilder builder, string name, ParameterLocation location, JsonSchemaType type,
        string description) where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = location,
                Description = description,
                Schema = new OpenApiSchema { Type = type },
            });
            return Task.CompletedTask;
        });
}
