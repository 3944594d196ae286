using System.Net;
using System.Net.Sockets;

namespace CustomerData.Bench.Faults;

/// <summary>
/// A loopback TCP forwarder in front of a server, for a network outage: <see cref="SetDown"/> aborts every connection
/// and closes the listening port (clients get "connection refused") until it is up again on the same port. The server
/// behind it keeps running and keeps its data, as S3 does when the network to it fails.
/// </summary>
public sealed class TcpOutageProxy : IAsyncDisposable
{
    private readonly int _target;
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;

    public TcpOutageProxy(int targetPort)
    {
        _target = targetPort;
        Port = CustomerData.TestServers.ServerProcess.FreeTcpPort();
        SetDown(false);
    }

    public int Port { get; }

    public void SetDown(bool down)
    {
        if (down)
        {
            _listener?.Stop();
            _listener = null;
            lock (_connections)
            {
                foreach (var c in _connections) c.Client.Close(0);
                _connections.Clear();
            }
            return;
        }
        if (_listener is not null) return;
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _accepting = Task.Run(() => AcceptAsync(listener));
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped: the outage began
            }
            _ = Task.Run(() => ForwardAsync(client));
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        lock (_connections)
        {
            _connections.Add(client);
            _connections.Add(upstream);
        }
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _target);
            using var a = client.GetStream();
            using var b = upstream.GetStream();
            await Task.WhenAny(a.CopyToAsync(b), b.CopyToAsync(a));
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (_connections)
            {
                _connections.Remove(client);
                _connections.Remove(upstream);
            }
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        SetDown(true);
        await _accepting;
    }
}
