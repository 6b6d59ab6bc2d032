using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansGateway.Agents.Tools;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Agents.Model;

/// <summary>
/// An agent that is a model with tools, on any OpenAI-compatible server. Each step is one effect: a model call, or one tool
/// call the model asked for. What to do next is read from the turn's journal alone (<see cref="ModelJournal.PendingCall"/>):
/// a tool call the journal asked for and has no result of runs first, else the model is asked.
/// </summary>
public sealed partial class OpenAIAgent : IAgent, IDisposable
{
    // The model's arguments as compact JSON: what an HTTP tool is sent and what the journal keeps.
    private static readonly JsonSerializerOptions ArgumentsJson = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    private readonly AgentOptions _options;
    private readonly IChatClient _model;
    private readonly ToolCatalog _tools;
    private readonly SessionTranscript _transcript;
    private readonly ILogger _log;

    private readonly bool _ownsModel;

    public OpenAIAgent(IOptions<AgentOptions> options, ToolCatalog tools, SessionTranscript transcript, ILoggerFactory loggers)
        : this(options.Value, OpenAIChatClients.Create(options.Value.OpenAI, loggers), tools, transcript, loggers)
    {
        _ownsModel = true;
    }

    public OpenAIAgent(AgentOptions options, IChatClient model, ToolCatalog tools, SessionTranscript transcript, ILoggerFactory loggers)
    {
        (_options, _model, _tools, _transcript) = (options, model, tools, transcript);
        _log = loggers.CreateLogger<OpenAIAgent>();
    }

    public string? Validate(string text) => string.IsNullOrWhiteSpace(text) ? "the text is empty" : null;

    // A model decides as it goes how many steps it takes.
    public int? PlannedSteps(string text) => null;

    /// <remarks>
    /// <see cref="AgentStep.Resume"/> is deliberately not passed on to the model (see <see cref="ModelConversation.Build"/>):
    /// the journal already says what was done.
    /// </remarks>
    public async Task<AgentStepResult> RunStepAsync(AgentStep step, CancellationToken cancellationToken)
    {
        var journal = ModelJournal.Read(step.Journal);
        if (step.Journal.Count >= _options.MaxSteps)
        {
            throw new InvalidOperationException($"stopped after {_options.MaxSteps} steps: the model kept calling tools");
        }

        return journal.PendingCall() is { } call
            ? await RunToolAsync(step, call, cancellationToken)
            : await AskModelAsync(step, journal, cancellationToken);
    }

    /// <summary>What the model reads after the error of a tool call that was cut off and sent again.</summary>
    public const string RepeatedCallNote =
        "(This call was cut off by an interruption and sent again with the same idempotency key: it may have taken effect the first time.)";

    /// <summary>
    /// <c>{session}/{turn}/{model step}/{call id}</c>: all of it is journaled before the tool first runs, so every attempt of
    /// this call, on any silo, sends the same key. The model step (the journal index of the model call that asked) is there
    /// because some local servers number their call ids afresh in every answer (<c>call_0</c> again and again), and two
    /// different calls of one turn must not share a key.
    /// </summary>
    public static string IdempotencyKey(AgentStep step, PendingCall pending) =>
        $"{step.SessionId}/{step.TurnId}/{pending.ModelStep}/{pending.Call.CallId}";

    private async Task<AgentStepResult> RunToolAsync(AgentStep step, PendingCall pending, CancellationToken cancellationToken)
    {
        var (call, key) = (pending.Call, IdempotencyKey(step, pending));
        Log.ToolCall(_log, step.SessionId, step.TurnId, step.Index, call.Name, key);
        var outcome = await _tools.RunAsync(call.Name, call.Arguments, key, cancellationToken);
        var result = outcome.Text;
        if (outcome.IsError)
        {
            Log.ToolError(_log, step.SessionId, step.TurnId, call.Name, outcome.Text);

            // The one place where the interruption is news to the model: a tool that refuses the repeated call (it saw
            // the key) or fails it may have done the work the first time, and the model must not simply try again.
            if (step.Resume?.InterruptedStep == step.Index)
            {
                result = $"{result} {RepeatedCallNote}";
            }
        }

        return AgentStepResult.Continue with
        {
            Record = ModelJournal.Record(new ToolStep(call.CallId, call.Name, result, outcome.IsError)),
        };
    }

    private async Task<AgentStepResult> AskModelAsync(AgentStep step, ModelJournal journal, CancellationToken cancellationToken)
    {
        var history = await HistoryAsync(step, cancellationToken);
        var messages = ModelConversation.Build(_options.SystemPrompt, history, step.Text, journal);
        var tools = await _tools.DeclarationsAsync(cancellationToken);
        // No tools at all rather than an empty list, which some servers refuse.
        var chat = new ChatOptions { Tools = tools.Count > 0 ? tools : null };
        Log.ModelCall(_log, step.SessionId, step.TurnId, step.Index, _options.OpenAI.Model, messages.Count, tools.Count);
        var response = await new ModelCall(_model, step.Output, _options.OpenAI).RunAsync(messages, chat, cancellationToken);
        var usage = response.Usage is { } u ? new TokenUsage(u.InputTokenCount ?? 0, u.OutputTokenCount ?? 0) : null;
        var calls = response.Messages.SelectMany(message => message.Contents).OfType<FunctionCallContent>().ToList();
        if (calls.Count == 0)
        {
            return AgentStepResult.Complete(response.Text) with { Usage = usage };
        }

        var model = new ModelStep(response.Text is { Length: > 0 } text ? text : null, Requests(calls), usage);
        return AgentStepResult.Continue with { Record = ModelJournal.Record(model), Usage = usage };
    }

    public void Dispose()
    {
        if (_ownsModel)
        {
            _model.Dispose();
        }
    }

    private static List<ToolCallRequest> Requests(IReadOnlyList<FunctionCallContent> calls)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        return calls.Select((call, index) => Request(call, UniqueId(call.CallId, index, taken))).ToList();
    }

    // A missing or repeated call id would make two calls one in the journal (and give them one idempotency key): such a
    // call gets an id of its own, which the model then sees in the replay like any other.
    private static string UniqueId(string? callId, int index, HashSet<string> taken)
    {
        var id = string.IsNullOrEmpty(callId) ? $"call_{index}" : callId;
        while (!taken.Add(id))
        {
            id = $"{id}_{index}";
        }

        return id;
    }

    private static ToolCallRequest Request(FunctionCallContent call, string callId)
    {
        if (call.Exception is { } malformed)
        {
            throw new InvalidOperationException($"the model's call of tool {call.Name} has arguments that cannot be read: {malformed.Message}", malformed);
        }

        return new ToolCallRequest(callId, call.Name, JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), ArgumentsJson));
    }

    private async Task<IReadOnlyList<Exchange>> HistoryAsync(AgentStep step, CancellationToken cancellationToken) =>
        _options.HistoryTurns > 0 && TurnIds.TryParse(step.TurnId, out var number) && number > 1
            ? await _transcript.RecentExchangesAsync(step.SessionId, number, _options.HistoryTurns, cancellationToken)
            : [];

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Session {SessionId} turn {TurnId} step {Step}: asking model {Model} ({Messages} messages, {Tools} tools)")]
        public static partial void ModelCall(ILogger logger, string sessionId, string turnId, int step, string? model, int messages, int tools);

        [LoggerMessage(2, LogLevel.Information, "Session {SessionId} turn {TurnId} step {Step}: calling tool {Tool} with idempotency key {Key}")]
        public static partial void ToolCall(ILogger logger, string sessionId, string turnId, int step, string tool, string key);

        [LoggerMessage(3, LogLevel.Warning, "Session {SessionId} turn {TurnId}: tool {Tool} failed, the model is told: {Error}")]
        public static partial void ToolError(ILogger logger, string sessionId, string turnId, string tool, string error);
    }
}
