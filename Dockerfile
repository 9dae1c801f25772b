# syntax=docker/dockerfile:1
# The Sweep image: `sweep silo` by default, any other command (e.g. `submit`) as arguments.
#   CPU (libtorch-cpu):                  docker build -t sweep:cpu .
#   GPU (TorchSharp-cuda-linux natives): docker build --build-arg TORCH=cuda -t sweep:gpu .
# Ubuntu 24.04 (noble) because TorchSharp's natives need libstdc++ from GCC 13+ (GLIBCXX_3.4.32).
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-noble AS build
# cpu or cuda: picks the libtorch natives (SweepTorch in src/Training/Training.csproj).
ARG TORCH=cpu
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
# tests/Deployment.Tests runs this exact publish command (with its own output folder) to check what the image copies.
RUN --mount=type=cache,target=/root/.nuget/packages \
    dotnet publish src/Cli/Cli.csproj -c Release -o /app -p:SweepTorch=${TORCH}

FROM mcr.microsoft.com/dotnet/runtime:${DOTNET_VERSION}-noble AS runtime
# libtorch is built with OpenMP (libgomp); the .NET runtime image does not have it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
COPY data/ ./data/
# SWEEP_DATA: the folder holding mnist10k. NVIDIA_DRIVER_CAPABILITIES: what the NVIDIA container runtime mounts for the
# GPUs a pod was given (ignored without a GPU). No NVIDIA_VISIBLE_DEVICES here: the device plugin sets it to the GPUs the
# pod requested; "all" baked in would hand every GPU of a node to any container on the NVIDIA runtime.
# DOTNET_EnableDiagnostics=0: no diagnostic IPC socket in /tmp, so the root filesystem can stay read-only.
ENV SWEEP_DATA=/app/data \
    DOTNET_EnableDiagnostics=0 \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# The non-root "app" user of the .NET images, by number so that Kubernetes' runAsNonRoot can check it.
USER 1654
# Silo-to-silo, client gateway, health endpoints (Sweep__SiloPort, Sweep__GatewayPort, Sweep__HealthPort).
EXPOSE 11111 30000 8080
ENTRYPOINT ["dotnet", "/app/sweep.dll"]
CMD ["silo"]
