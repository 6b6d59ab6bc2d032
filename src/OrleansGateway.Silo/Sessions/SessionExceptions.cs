namespace OrleansGateway.Sessions;

/// <summary>
/// The session takes no message now (quarantined, or about to be) and stored nothing: the ingress answers 409 with the
/// reason. An exception so that an ingress of release 0.1, which knows no refusal, answers an error, never a 202.
/// </summary>
[GenerateSerializer, Alias("OrleansGateway.Sessions.MessageRefusedException")]
public sealed class MessageRefusedException : Exception
{
    public MessageRefusedException(string reason) : base(reason)
    {
    }

    public MessageRefusedException()
    {
    }
}

/// <summary>A fenced ledger write matched no row: this activation no longer owns the session.</summary>
public sealed class LedgerFenceException(string sessionId)
    : Exception($"session {sessionId} is owned by a newer activation; retry the request");
