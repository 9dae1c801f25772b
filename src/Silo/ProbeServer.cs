using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sweep.Silo;

/// <summary>
/// A minimal HTTP/1.1 server for probes: it reads a request's first line, answers GET PATH with the status and text body
/// <see cref="Answer"/> gives, and closes the connection. On TcpListener rather than HttpListener: the managed
/// HttpListener of Linux can throw from Start() when a client connects while it starts (its accept loop runs from its
/// constructor before its lock exists, dotnet/corefx#35191), which a probe polling a starting silo does.
/// </summary>
public sealed class ProbeServer(IPAddress address, int port, Func<string, (int Status, string Body)> answer) : IDisposable
{
    private readonly TcpListener _listener = new(address, port);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>What a GET of a path answers.</summary>
    public Func<string, (int Status, string Body)> Answer { get; } = answer;

    /// <summary>Binds and listens (a <see cref="SocketException"/> when the port is taken).</summary>
    public void Start() => _listener.Start();

    /// <summary>Answers connections until <paramref name="stop"/>; each at most 5 s, one at a time (probes are rare).</summary>
    public async Task ServeAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(stop); }
            catch (OperationCanceledException) { break; }
            catch (SocketException) { continue; }
            using (client)
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                try { await RespondAsync(client.GetStream(), timeout.Token); }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException) { }
            }
        }
    }

    private async Task RespondAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        // The request line and headers, up to their blank line (at most 8 KB).
        var buffer = new byte[8192];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0) break;
            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0) break;
        }
        string head = Encoding.ASCII.GetString(buffer, 0, length);
        string[] line = head.Split("\r\n", 2)[0].Split(' ');
        (int status, string body) = line.Length >= 2 && line[0] == "GET"
            ? Answer(line[1].Split('?', 2)[0])
            : (405, "only GET");
        var bytes = Encoding.UTF8.GetBytes(body + "\n");
        string reason = status switch { 200 => "OK", 404 => "Not Found", 405 => "Method Not Allowed", _ => "Service Unavailable" };
        var header = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + $"Content-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(header, cancellationToken);
        await stream.WriteAsync(bytes, cancellationToken);
    }

    public void Dispose() => _listener.Dispose();
}
