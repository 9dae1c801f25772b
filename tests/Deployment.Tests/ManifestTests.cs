using Sweep.Training;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Sweep.Client;
using Sweep.Grains.Resilience;
using Sweep.Grains.Slots;
using Sweep.Silo;
using Xunit;

namespace Sweep.Deployment.Tests;

/// <summary>
/// k8s/: both overlays render with the real kustomize (kubectl kustomize), every object validates against the Kubernetes
/// OpenAPI schemas (kubernetes-models + ajv, tools/k8s-validate), and the silo's settings are ones the silo reads.
/// </summary>
public sealed class ManifestTests
{
    private static readonly string Validator = Path.Combine(Repo.Root, "tools", "k8s-validate", "validate.mjs");

    /// <summary>Renders an overlay and validates it; returns the rendered objects.</summary>
    private static List<JsonObject> Render(string overlay)
    {
        var (rc, yaml, err) = Repo.Run("kubectl", ["kustomize", Path.Combine("k8s", "overlays", overlay)]);
        Assert.True(rc == 0, $"kubectl kustomize k8s/overlays/{overlay} failed: {err}");
        var (vrc, json, verr) = Validate(yaml);
        Assert.True(vrc == 0, $"k8s/overlays/{overlay} does not validate against the Kubernetes schemas:\n{verr}");
        return JsonNode.Parse(json)!.AsArray().Select(n => n!.AsObject()).ToList();
    }

    private static (int, string, string) Validate(string yaml)
    {
        Assert.True(Directory.Exists(Path.Combine(Repo.Root, "tools", "k8s-validate", "node_modules", "kubernetes-models")),
            "tools/k8s-validate/node_modules is missing: ./test.sh installs it (npm ci --prefix tools/k8s-validate)");
        return Repo.Run("node", [Validator], stdin: yaml);
    }

    private static JsonObject Find(List<JsonObject> objects, string kind, string name) =>
        objects.SingleOrDefault(o => (string?)o["kind"] == kind && (string?)o["metadata"]?["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"no {kind}/{name} in the rendered manifests");

    private static JsonObject SiloContainer(List<JsonObject> objects) =>
        Find(objects, "Deployment", "sweep-silo")["spec"]!["template"]!["spec"]!["containers"]!.AsArray()
            .Single(c => (string?)c!["name"] == "silo")!.AsObject();

    /// <summary>The container's environment with downward-API values resolved as the kubelet would (pod IP made up).</summary>
    private static Dictionary<string, string> ResolvedEnv(List<JsonObject> objects)
    {
        var deployment = Find(objects, "Deployment", "sweep-silo");
        var labels = deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        var container = SiloContainer(objects);
        var env = new Dictionary<string, string>();
        foreach (var e in container["env"]!.AsArray())
        {
            string name = (string)e!["name"]!;
            if (e["value"] is { } value) { env[name] = (string)value!; continue; }
            var from = e["valueFrom"]!;
            if (from["fieldRef"]?["fieldPath"] is { } field)
            {
                string path = (string)field!;
                env[name] = path switch
                {
                    "status.podIP" => "10.1.2.3",
                    "metadata.name" => "sweep-silo-abc",
                    "metadata.namespace" => "sweep",
                    _ when path.StartsWith("metadata.labels['") => (string?)labels[path["metadata.labels['".Length..^2]]
                        ?? throw new Xunit.Sdk.XunitException($"{name}: the pod has no label for {path}"),
                    _ => throw new Xunit.Sdk.XunitException($"{name}: unexpected fieldRef {path}"),
                };
            }
            else if (from["resourceFieldRef"] is { } resource)
            {
                string quantity = (string?)container["resources"]!["limits"]?[((string)resource["resource"]!)["limits.".Length..]]
                    ?? throw new Xunit.Sdk.XunitException($"{name}: {resource["resource"]} is not set on the container");
                env[name] = quantity;
            }
            else if (from["secretKeyRef"] is { } secret)
                env[name] = $"secret-{secret["name"]}-{secret["key"]}";   // made up, as the Secret the operator creates
            else throw new Xunit.Sdk.XunitException($"{name}: unexpected valueFrom {from.ToJsonString()}");
        }
        // $(VAR) references to variables defined earlier are expanded, as the kubelet does.
        foreach (var name in env.Keys.ToArray())
            env[name] = System.Text.RegularExpressions.Regex.Replace(env[name], @"\$\((\w+)\)",
                m => env.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);
        return env;
    }

    private static IEnumerable<(string Kind, string Name, JsonObject Labels, JsonObject Pod)> PodTemplates(List<JsonObject> objects) =>
        objects.Where(o => (string?)o["kind"] is "Deployment" or "StatefulSet" or "Job" or "DaemonSet")
            .Select(o => ((string)o["kind"]!, (string)o["metadata"]!["name"]!,
                o["spec"]!["template"]!["metadata"]?["labels"]?.AsObject() ?? [], o["spec"]!["template"]!["spec"]!.AsObject()));

    private static bool Selects(JsonNode? selector, JsonObject labels) =>
        (selector?["matchLabels"]?.AsObject() ?? []).All(kv => (string?)labels[kv.Key] == (string?)kv.Value)
        && selector?["matchExpressions"] is null;

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void Every_pod_is_behind_a_default_deny_and_a_network_policy_of_its_own(string overlay)
    {
        var objects = Render(overlay);
        var policies = objects.Where(o => (string?)o["kind"] == "NetworkPolicy").ToArray();
        var deny = Assert.Single(policies, p => (string?)p["metadata"]!["name"] == "default-deny");
        Assert.Empty(deny["spec"]!["podSelector"]!.AsObject());
        Assert.Equal(["Ingress", "Egress"], deny["spec"]!["policyTypes"]!.AsArray().Select(t => (string)t!));
        Assert.Null(deny["spec"]!["ingress"]);
        Assert.Null(deny["spec"]!["egress"]);
        foreach (var (kind, name, labels, _) in PodTemplates(objects))
        {
            // A policy that names this workload's pods (not only the namespace-wide ones).
            Assert.True(policies.Any(p => p["spec"]!["podSelector"]!["matchLabels"] is JsonObject { Count: > 0 } match
                    && Selects(p["spec"]!["podSelector"], labels)),
                $"{kind}/{name}: no NetworkPolicy selects its pods ({labels.ToJsonString()})");
        }
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void Secrets_come_from_secret_refs_and_pods_meet_the_restricted_pod_security_standard(string overlay)
    {
        var objects = Render(overlay);
        var ns = Find(objects, "Namespace", "sweep");
        Assert.Equal("restricted", (string?)ns["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]);
        foreach (var (kind, name, _, pod) in PodTemplates(objects))
        {
            Assert.True((bool?)pod["securityContext"]?["runAsNonRoot"] == true, $"{kind}/{name}: runAsNonRoot");
            Assert.Equal("RuntimeDefault", (string?)pod["securityContext"]?["seccompProfile"]?["type"]);
            foreach (var c in pod["containers"]!.AsArray())
            {
                var sc = c!["securityContext"];
                Assert.True((bool?)sc?["allowPrivilegeEscalation"] == false, $"{kind}/{name}/{c["name"]}: allowPrivilegeEscalation");
                Assert.Equal(["ALL"], sc!["capabilities"]!["drop"]!.AsArray().Select(d => (string)d!));
                foreach (var e in c["env"]?.AsArray() ?? [])
                {
                    string env = (string)e!["name"]!;
                    // No password or token is written into a manifest.
                    if (env.Contains("PASSWORD") || env.Contains("TOKEN") || env.EndsWith("AUTH", StringComparison.Ordinal))
                        Assert.True(e["valueFrom"]?["secretKeyRef"] is not null, $"{kind}/{name}: {env} is not from a Secret");
                    if (overlay == "cpu") Assert.NotEqual("NVIDIA_VISIBLE_DEVICES", env);
                }
            }
        }
        // Redis asks for the password the silos and the Job send (all from Secret sweep-redis).
        var redis = Find(objects, "StatefulSet", "redis")["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Contains("$(REDIS_PASSWORD)", redis["args"]!.AsArray().Select(a => (string)a!));
        Assert.Contains(redis["env"]!.AsArray(), e => (string?)e!["name"] == "REDIS_PASSWORD"
            && (string?)e["valueFrom"]?["secretKeyRef"]?["name"] == "sweep-redis");
        Assert.Equal("redis:6379,password=secret-sweep-redis-password", ResolvedEnv(objects)["Sweep__Redis"]);
    }

    [Fact]
    public void The_image_sets_no_nvidia_visible_devices()
    {
        // The device plugin sets it to the GPUs a pod was given; a value baked in would hand out every GPU of the node.
        string dockerfile = File.ReadAllText(Path.Combine(Repo.Root, "Dockerfile"));
        Assert.DoesNotMatch(@"(?m)^\s*(ENV\s+)?NVIDIA_VISIBLE_DEVICES\s*=", dockerfile);
        Assert.Contains("NVIDIA_DRIVER_CAPABILITIES=compute,utility", dockerfile);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void Overlay_renders_and_every_object_validates_against_the_Kubernetes_schemas(string overlay)
    {
        var objects = Render(overlay);
        var kinds = objects.Select(o => $"{o["kind"]}/{o["metadata"]!["name"]}").ToHashSet();
        foreach (var expected in new[] { "Namespace/sweep", "Deployment/sweep-silo", "PodDisruptionBudget/sweep-silo", "StatefulSet/redis",
                     "Service/redis", "Service/sweep-gateway", "Deployment/otel-collector", "Service/otel-collector", "Job/sweep-submit" })
            Assert.Contains(expected, kinds);
        Assert.All(objects.Where(o => (string?)o["kind"] != "Namespace"), o => Assert.Equal("sweep", (string?)o["metadata"]!["namespace"]));
    }

    [Fact]
    public void Validator_rejects_an_object_that_breaks_the_schema()
    {
        const string broken = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: broken }
            spec: { replicas: two, selector: {}, template: { spec: { containers: [ { name: c, image: i } ] } } }
            """;
        var (rc, _, err) = Validate(broken);
        Assert.Equal(1, rc);
        Assert.Contains("replicas", err);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void Silo_probes_and_ports_are_the_ones_the_silo_serves(string overlay)
    {
        var objects = Render(overlay);
        var container = SiloContainer(objects);
        var env = ResolvedEnv(objects);
        var ports = container["ports"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => (int)p!["containerPort"]!);
        var defaults = new SweepSiloOptions();
        Assert.Equal(env.TryGetValue("Sweep__SiloPort", out var s) ? int.Parse(s) : defaults.SiloPort, ports["silo"]);
        Assert.Equal(env.TryGetValue("Sweep__GatewayPort", out var g) ? int.Parse(g) : defaults.GatewayPort, ports["gateway"]);
        // Sweep:HealthPort defaults to 8080 (the health endpoints' port).
        Assert.Equal(env.TryGetValue("Sweep__HealthPort", out var h) ? int.Parse(h) : 8080, ports["health"]);
        foreach (var (probe, path) in new[]
            { ("startupProbe", "/healthz/startup"), ("livenessProbe", "/healthz/live"), ("readinessProbe", "/healthz/ready") })
        {
            var get = container[probe]?["httpGet"] ?? throw new Xunit.Sdk.XunitException($"the silo has no HTTP {probe}");
            Assert.Equal(path, (string?)get["path"]);
            var port = get["port"]!;
            int number = port.GetValueKind() == System.Text.Json.JsonValueKind.String ? ports[(string)port!] : (int)port;
            Assert.Equal(ports["health"], number);
        }
        var pod = Find(objects, "Deployment", "sweep-silo")["spec"]!["template"]!["spec"]!;
        var shutdown = TimeSpan.Parse(env["Sweep__ShutdownTimeout"]);
        Assert.True((int)pod["terminationGracePeriodSeconds"]! > shutdown.TotalSeconds, "the grace period must outlast the silo's drain");
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void Silo_environment_holds_only_settings_the_silo_reads_and_they_validate(string overlay)
    {
        var env = ResolvedEnv(Render(overlay));
        // Read by the silo outside section "Sweep": its name, the OTLP exporter; POD_IP/POD_NAMESPACE for the pod's own use.
        string[] outside = ["POD_NAME", "POD_IP", "POD_NAMESPACE", "SWEEP_REDIS", "SWEEP_DATA", "OTEL_EXPORTER_OTLP_ENDPOINT",
            "REDIS_PASSWORD"];
        var sections = new Dictionary<string, Type>
        {
            [""] = typeof(SweepSiloOptions), ["Slots"] = typeof(TrialSlotOptions), ["Telemetry"] = typeof(SweepTelemetryOptions),
            ["Resilience"] = typeof(SweepResilienceOptions), ["Membership"] = typeof(Orleans.Configuration.ClusterMembershipOptions),
            ["Limits"] = typeof(Sweep.Grains.Security.SweepLimitOptions), ["Http"] = typeof(SweepHttpOptions),
        };
        foreach (var name in env.Keys)
        {
            if (outside.Contains(name)) continue;
            var parts = name.Split("__");
            Assert.True(parts[0] == "Sweep", $"{name} is not a setting the silo reads");
            bool known = parts.Length switch
            {
                2 => typeof(SweepSiloOptions).GetProperty(parts[1]) is not null
                    || typeof(TrialSlotOptions).GetProperty(parts[1]) is not null
                    || typeof(Sweep.Grains.SweepRetentionOptions).GetProperty(parts[1]) is not null
                    || typeof(Sweep.Grains.Security.SweepSecurityOptions).GetProperty(parts[1]) is not null,
                3 => sections.TryGetValue(parts[1], out var type) && parts[1] != "" && type.GetProperty(parts[2]) is not null
                    || typeof(SweepSiloOptions).GetProperty(parts[1])?.PropertyType.IsArray == true && int.TryParse(parts[2], out _),
                _ => false,
            };
            Assert.True(known, $"{name} is not a setting the silo reads");
        }
        // Bound and checked by the silo's own code, as at start-up.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(env.Select(e => KeyValuePair.Create<string, string?>(e.Key.Replace("__", ":"), e.Value))).Build();
        var silo = SweepSiloExtensions.ReadSiloOptions(configuration);
        silo.Validate();
        Assert.Equal("10.1.2.3", silo.AdvertisedIp);
        Assert.Equal("redis:6379,password=secret-sweep-redis-password", silo.Redis);
        Assert.DoesNotContain("secret", silo.RedisForLogs());   // only endpoints are logged
        var slots = configuration.GetSection("Sweep").Get<TrialSlotOptions>()!;
        Assert.Null(slots.Validate());
        Assert.Null((configuration.GetSection(SweepResilienceOptions.Section).Get<SweepResilienceOptions>() ?? new()).Validate());
        Assert.Equal(overlay == "gpu" ? "cuda" : "cpu", slots.Device);
        var retention = configuration.GetSection("Sweep").Get<Sweep.Grains.SweepRetentionOptions>()!;
        Assert.Null(retention.Validate());
        Assert.Equal(TimeSpan.FromDays(30), retention.RetainFinished);
        // The security settings: both secrets set (from the Secret), caps that validate, data roots and TLS set.
        var security = configuration.GetSection("Sweep").Get<Sweep.Grains.Security.SweepSecurityOptions>()!;
        Assert.Null(security.Validate());
        Assert.NotNull(security.ClusterKey);
        Assert.NotNull(security.ClientToken);
        var limits = configuration.GetSection(Sweep.Grains.Security.SweepLimitOptions.Section)
            .Get<Sweep.Grains.Security.SweepLimitOptions>()!;
        Assert.Null(limits.Validate());
        Assert.NotNull(limits.MaxTrialSeconds);
        Assert.NotNull(limits.TrialEpochBudget);
        Assert.Equal(["/data"], silo.DataRoots!);
        Assert.Equal("/etc/sweep/tls", silo.TlsDirectory);
        // The API listens beyond loopback: the silo's own check wants TLS and the client credential, both set here.
        var http = configuration.GetSection(SweepHttpOptions.Section).Get<SweepHttpOptions>()!;
        Assert.Null(http.Validate());
        Assert.Null(http.CheckExposure(silo.TlsDirectory, security.ClientToken));
        Assert.NotNull(http.CheckExposure(null, security.ClientToken));
        Assert.NotNull(http.CheckExposure(silo.TlsDirectory, null));
    }

    [Fact]
    public void The_api_is_a_cluster_ip_service_on_the_silos_api_port_open_only_to_labelled_api_clients()
    {
        var objects = Render("cpu");
        var ports = SiloContainer(objects)["ports"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => (int)p!["containerPort"]!);
        Assert.Equal(int.Parse(ResolvedEnv(objects)["Sweep__Http__Port"]), ports["api"]);
        var service = Find(objects, "Service", "sweep-api")["spec"]!;
        Assert.Equal("ClusterIP", (string?)service["type"]);
        Assert.Equal("sweep-silo", (string?)service["selector"]!["app.kubernetes.io/name"]);
        Assert.Equal("api", (string?)service["ports"]![0]!["targetPort"]);
        // The silos' policy admits the API port only from pods labelled as API clients (default deny does the rest).
        var ingress = Find(objects, "NetworkPolicy", "sweep-silo")["spec"]!["ingress"]!.AsArray();
        var apiRules = ingress.Where(i => i!["ports"]!.AsArray().Any(p => (int)p!["port"]! == ports["api"])).ToList();
        var rule = Assert.Single(apiRules)!;
        Assert.Equal("true", (string?)rule["from"]![0]!["podSelector"]!["matchLabels"]!["sweep.io/api-client"]);
    }

    [Fact]
    public void Silos_get_their_secrets_and_certificates_from_secrets_and_clients_reach_them_by_a_headless_gateway_service()
    {
        var objects = Render("cpu");
        var silo = SiloContainer(objects);
        foreach (var (variable, secret) in new[] { ("Sweep__ClusterKey", "sweep-cluster"), ("Sweep__ClientToken", "sweep-cluster") })
            Assert.Contains(silo["env"]!.AsArray(), e => (string?)e!["name"] == variable
                && (string?)e["valueFrom"]?["secretKeyRef"]?["name"] == secret);
        var siloPod = Find(objects, "Deployment", "sweep-silo")["spec"]!["template"]!["spec"]!;
        Assert.Contains(siloPod["volumes"]!.AsArray(), v => (string?)v!["secret"]?["secretName"] == "sweep-tls");
        var tlsMount = silo["volumeMounts"]!.AsArray().Single(m => (string?)m!["mountPath"] == ResolvedEnv(objects)["Sweep__TlsDirectory"]);
        Assert.Equal(true, (bool?)tlsMount!["readOnly"]);

        // The gateway Service is headless: its name resolves to every silo pod (a ClusterIP would break client routing).
        var service = Find(objects, "Service", "sweep-gateway")["spec"]!;
        Assert.Equal("None", (string?)service["clusterIP"]);
        Assert.Equal("sweep-silo", (string?)service["selector"]!["app.kubernetes.io/name"]);
        Assert.Equal(30000, (int)service["ports"]![0]!["port"]!);

        // The Job is a client: gateway address, token and client certificate from Secrets, nothing of Redis.
        var job = Find(objects, "Job", "sweep-submit")["spec"]!["template"]!["spec"]!;
        var container = job["containers"]![0]!;
        var args = container["args"]!.AsArray().Select(a => (string)a!).ToList();
        Assert.Equal("sweep-gateway:30000", args[args.IndexOf("--gateway") + 1]);
        var env = container["env"]!.AsArray();
        Assert.Contains(env, e => (string?)e!["name"] == "SWEEP_TOKEN"
            && (string?)e["valueFrom"]?["secretKeyRef"]?["name"] == "sweep-cluster");
        Assert.DoesNotContain(env, e => ((string)e!["name"]!).Contains("REDIS"));
        Assert.Contains(job["volumes"]!.AsArray(), v => (string?)v!["secret"]?["secretName"] == "sweep-client-tls");

        // Only the silos may reach Redis.
        var redisPolicy = Find(objects, "NetworkPolicy", "redis")["spec"]!;
        var from = redisPolicy["ingress"]!.AsArray().SelectMany(i => i!["from"]!.AsArray())
            .Select(f => (string?)f!["podSelector"]?["matchLabels"]?["app.kubernetes.io/name"]).ToArray();
        Assert.Equal(["sweep-silo"], from);
        var jobPolicy = Find(objects, "NetworkPolicy", "sweep-submit")["spec"]!;
        Assert.DoesNotContain(jobPolicy["egress"]!.AsArray().SelectMany(e => e!["to"]!.AsArray()),
            t => (string?)t!["podSelector"]?["matchLabels"]?["app.kubernetes.io/name"] == "redis");
    }

    [Fact]
    public void Gpu_overlay_requests_gpus_on_gpu_nodes_and_cpu_overlay_does_not()
    {
        var gpu = Render("gpu");
        var container = SiloContainer(gpu);
        Assert.True(int.Parse((string)container["resources"]!["limits"]!["nvidia.com/gpu"]!) >= 1, "GPU silos must request nvidia.com/gpu");
        var pod = Find(gpu, "Deployment", "sweep-silo")["spec"]!["template"]!["spec"]!;
        Assert.Equal("true", (string?)pod["nodeSelector"]?["nvidia.com/gpu.present"]);
        Assert.Contains(pod["tolerations"]!.AsArray(), t => (string?)t!["key"] == "nvidia.com/gpu" && (string?)t["effect"] == "NoSchedule");
        Assert.EndsWith(":gpu", (string)container["image"]!);

        var cpu = SiloContainer(Render("cpu"));
        Assert.Null(cpu["resources"]!["limits"]!["nvidia.com/gpu"]);
        Assert.EndsWith(":cpu", (string)cpu["image"]!);
    }

    [Fact]
    public void Submit_job_mounts_the_spec_config_map_and_the_spec_is_valid()
    {
        var objects = Render("cpu");
        var job = Find(objects, "Job", "sweep-submit")["spec"]!["template"]!["spec"]!;
        var container = job["containers"]![0]!;
        var args = container["args"]!.AsArray().Select(a => (string)a!).ToList();
        Assert.Equal("submit", args[0]);
        var mount = container["volumeMounts"]!.AsArray().Single(m => args[1].StartsWith((string)m!["mountPath"]! + "/"))!;
        var volume = job["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)mount["name"])!;
        // The generator adds a content hash to the name; the Job's reference must have been rewritten to it.
        var configMap = Find(objects, "ConfigMap", (string)volume["configMap"]!["name"]!);
        string key = args[1][((string)mount["mountPath"]!).Length..].TrimStart('/');
        string file = Path.Combine(Path.GetTempPath(), $"sweep-spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, (string)configMap["data"]![key]!);
        try { Assert.False(string.IsNullOrEmpty(SweepClient.LoadSpec(file).Source)); }
        finally { File.Delete(file); }
    }
}
