namespace OrleansGateway.Storage;

/// <summary>A completed turn as a conversation sees it: what the user said and what the agent replied.</summary>
public sealed record Exchange(int Number, string Text, string Reply);
