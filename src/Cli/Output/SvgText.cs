using System.Globalization;
using System.Text;
using System.Xml;

namespace Sweep.Cli.Output;

/// <summary>Text and numbers as the hand-written SVG documents (front.svg, `sweep plot`) write them.</summary>
internal static class SvgText
{
    /// <summary>A coordinate: invariant culture, at most two decimals.</summary>
    public static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>XML-escapes text and drops characters XML 1.0 cannot hold, so any title yields a valid document.</summary>
    public static string Escape(string? text)
    {
        var t = text ?? "";
        var s = new StringBuilder(t.Length);
        for (int i = 0; i < t.Length; i++)
        {
            var c = t[i];
            switch (c)
            {
                case '&': s.Append("&amp;"); break;
                case '<': s.Append("&lt;"); break;
                case '>': s.Append("&gt;"); break;
                case '"': s.Append("&quot;"); break;
                case '\'': s.Append("&apos;"); break;
                default:
                    if (XmlConvert.IsXmlChar(c)) s.Append(c);
                    else if (i + 1 < t.Length && XmlConvert.IsXmlSurrogatePair(t[i + 1], c)) s.Append(c).Append(t[++i]);
                    break;
            }
        }
        return s.ToString();
    }
}
