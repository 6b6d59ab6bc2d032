using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// stdout carries the protocol: every log line goes to stderr.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);

// The tool answers with what it got, the idempotency key of the request's _meta included, so that the test sees both.
var shout = McpServerTool.Create(
    (RequestContext<CallToolRequestParams> context, string text) =>
        $"{text.ToUpperInvariant()} (key {context.Params?.Meta?["idempotencyKey"]?.GetValue<string>() ?? "none"})",
    new McpServerToolCreateOptions { Name = "shout", Description = "Answers the text in capitals" });
builder.Services.AddMcpServer().WithStdioServerTransport().WithTools([shout]);
await builder.Build().RunAsync();
