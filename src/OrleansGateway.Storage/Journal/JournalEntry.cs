using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

/// <summary>A journaled step of a turn: its index in the turn, its kind, the agent's JSON record, and its token usage.</summary>
public sealed record JournalEntry(int Step, string Kind, string Data, TokenUsage? Usage = null);

/// <summary>What a step's checkpoint writes besides its fence: the step's journal entry, and the event that tells of it.</summary>
public sealed record StepCheckpoint(int TurnNumber, JournalEntry? Entry, TurnEventDraft Event);
