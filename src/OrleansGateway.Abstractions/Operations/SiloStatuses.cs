namespace OrleansGateway.Operations;

/// <summary>A silo's status as Orleans' membership table keeps it, by name: what the operator API and ogw show.</summary>
public static class SiloStatuses
{
    public const string Active = "Active";
    public const string Dead = "Dead";

    /// <summary>The name of <c>Orleans.Runtime.SiloStatus</c> value <paramref name="status"/>: the table stores the number.</summary>
    public static string FromNumber(int status) => status switch
    {
        0 => "None",
        1 => "Created",
        2 => "Joining",
        3 => Active,
        4 => "ShuttingDown",
        5 => "Stopping",
        6 => Dead,
        _ => $"Unknown({status})",
    };
}
