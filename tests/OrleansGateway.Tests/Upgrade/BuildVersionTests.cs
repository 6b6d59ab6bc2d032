using OrleansGateway.Upgrade;

namespace OrleansGateway.Tests.Upgrade;

/// <summary>The order in which silos of several versions are preferred during an upgrade.</summary>
public sealed class BuildVersionTests
{
    [Theory]
    [InlineData("0.2.0", "0.2.1")]
    [InlineData("0.2.0+78abb405", "0.2.1+0a1b2c3d")]
    [InlineData("0.2.1-rc.1", "0.2.1")]
    [InlineData("0.2.1-alpha", "0.2.1-beta")]
    [InlineData("0.2.1-rc.2", "0.2.1-rc.10")]
    [InlineData("0.2.1-rc.1", "0.2.1-rc.1.1")]
    [InlineData("0.9.0", "0.10.0")]
    [InlineData("1.2", "1.2.1")]
    public void Versions_are_ordered_as_SemVer_orders_them(string older, string newer)
    {
        Assert.True(BuildVersion.TryParse(older, out var a));
        Assert.True(BuildVersion.TryParse(newer, out var b));

        Assert.True(a.CompareTo(b) < 0, $"{older} < {newer}");
        Assert.True(b.CompareTo(a) > 0, $"{newer} > {older}");
    }

    [Theory]
    [InlineData("0.2.0+aaaa", "0.2.0+bbbb")]
    [InlineData("1.2", "1.2.0")]
    public void Build_metadata_and_a_missing_patch_do_not_make_another_version(string one, string other)
    {
        Assert.True(BuildVersion.TryParse(one, out var a));
        Assert.True(BuildVersion.TryParse(other, out var b));

        Assert.Equal(0, a.CompareTo(b));
    }

    [Theory]
    [InlineData("")]
    [InlineData("next")]
    [InlineData("7")]
    [InlineData("v1.2.3")]
    public void What_is_not_a_version_does_not_parse(string text) => Assert.False(BuildVersion.TryParse(text, out _));

    [Fact]
    public void The_build_publishes_the_version_of_Directory_Build_props_with_its_short_commit() =>
        Assert.Matches(@"^0\.2\.0(\+[0-9a-f]{7})?$", BuildVersion.Informational);
}
