# syntax=docker/dockerfile:1
# Two images from one build: `--target silo` (the silo host, the default) and `--target cli` (`ogw`, used by
# docker-compose.yml to run `ogw db migrate` before the silos start).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore from the project files alone, so that a change to the code does not download the packages again.
# `dotnet restore OrleansGateway.sln` needs every project of the solution: a project added to the solution
# needs its line here (ComposeFileTests checks it).
COPY Directory.Build.props Directory.Packages.props OrleansGateway.sln ./
COPY src/OrleansGateway.Abstractions/OrleansGateway.Abstractions.csproj src/OrleansGateway.Abstractions/
COPY src/OrleansGateway.Storage/OrleansGateway.Storage.csproj src/OrleansGateway.Storage/
COPY src/OrleansGateway.Silo/OrleansGateway.Silo.csproj src/OrleansGateway.Silo/
COPY src/OrleansGateway.Cli/OrleansGateway.Cli.csproj src/OrleansGateway.Cli/
COPY tests/OrleansGateway.Tests/OrleansGateway.Tests.csproj tests/OrleansGateway.Tests/
COPY bench/OrleansGateway.Benchmarks/OrleansGateway.Benchmarks.csproj bench/OrleansGateway.Benchmarks/
RUN dotnet restore OrleansGateway.sln

# The sources (bin/ and obj/ of the host stay out: .dockerignore).
COPY . .
RUN dotnet publish src/OrleansGateway.Silo/OrleansGateway.Silo.csproj -c Release --no-restore -p:UseAppHost=false -o /out/silo \
 && dotnet publish src/OrleansGateway.Cli/OrleansGateway.Cli.csproj -c Release --no-restore -p:UseAppHost=false -o /out/cli

# `ogw`. Its configuration comes from the environment (ConnectionStrings__Postgres).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS cli
WORKDIR /app
COPY --from=build /out/cli .
USER $APP_UID
ENTRYPOINT ["dotnet", "ogw.dll"]

# The silo. Exec-form ENTRYPOINT: dotnet is PID 1 and receives the SIGTERM of `docker stop` itself, so the
# host shuts the silo down gracefully (leaves the membership table, stops its grains) instead of being killed.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS silo
# curl for the compose healthcheck (GET /readyz); the aspnet image has none.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out/silo .
USER $APP_UID
# HTTP (compose sets Urls=http://0.0.0.0:8080). The silo-to-silo and gateway ports come from Orleans__SiloPort
# and Orleans__GatewayPort and differ per silo, so they are not declared here.
EXPOSE 8080
ENTRYPOINT ["dotnet", "OrleansGateway.Silo.dll"]
