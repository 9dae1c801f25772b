using Sweep.Core.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training;

/// <summary>
/// Picks the device a trial trains on: CUDA when TorchSharp reports it, else the CPU; "cpu", "cuda" or "cuda:N" override.
/// </summary>
public static class TrainingDevice
{
    public static Device Resolve(string? requested = null)
    {
        string r = string.IsNullOrWhiteSpace(requested) ? "auto" : requested.Trim().ToLowerInvariant();
        if (r == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (r == "cpu") return torch.CPU;
        if (r == "cuda" || r.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new InvalidSettingException("device",
                    $"'{requested}' was asked for but TorchSharp reports no CUDA device (this build has the CPU libtorch)");
            if (r == "cuda") return torch.CUDA;
            if (!int.TryParse(r.AsSpan(5), out int index) || index < 0 || index >= torch.cuda.device_count())
                throw new InvalidSettingException("device", $"'{requested}': there are {torch.cuda.device_count()} CUDA devices");
            return torch.device(DeviceType.CUDA, index);
        }
        throw new InvalidSettingException("device", $"'{requested}' is not one of auto, cpu, cuda, cuda:N");
    }

    /// <summary>How many CUDA devices TorchSharp sees (0 when the CPU libtorch is loaded).</summary>
    public static int CudaDeviceCount() => torch.cuda.is_available() ? torch.cuda.device_count() : 0;
}
