# syntax=docker/dockerfile:1
# Three images from one build: `--target silo` (the silo host, the default), `--target dashboard` (the operator
# dashboard) and `--target cli` (`ogw`, used by docker-compose.yml to run `ogw db migrate` before the silos start).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore from the project files alone, so that a change to the code does not download the packages again.
# Only what the images publish: ogw references the silo and the dashboard (for the build order), so restoring it
# restores all of src/; the tests' packages (Playwright and its browser driver, the test host) stay out of the image.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/OrleansGateway.Abstractions/OrleansGateway.Abstractions.csproj src/OrleansGateway.Abstractions/
COPY src/OrleansGateway.Storage/OrleansGateway.Storage.csproj src/OrleansGateway.Storage/
COPY src/OrleansGateway.ServiceDefaults/OrleansGateway.ServiceDefaults.csproj src/OrleansGateway.ServiceDefaults/
COPY src/OrleansGateway.Silo/OrleansGateway.Silo.csproj src/OrleansGateway.Silo/
COPY src/OrleansGateway.Dashboard/OrleansGateway.Dashboard.csproj src/OrleansGateway.Dashboard/
COPY src/OrleansGateway.LocalCluster/OrleansGateway.LocalCluster.csproj src/OrleansGateway.LocalCluster/
COPY src/OrleansGateway.Cli/OrleansGateway.Cli.csproj src/OrleansGateway.Cli/
RUN dotnet restore src/OrleansGateway.Cli/OrleansGateway.Cli.csproj

# The sources (bin/ and obj/ of the host stay out: .dockerignore).
COPY . .
RUN dotnet publish src/OrleansGateway.Silo/OrleansGateway.Silo.csproj -c Release --no-restore -p:UseAppHost=false -o /out/silo \
 && dotnet publish src/OrleansGateway.Dashboard/OrleansGateway.Dashboard.csproj -c Release --no-restore -p:UseAppHost=false -o /out/dashboard \
 && dotnet publish src/OrleansGateway.Cli/OrleansGateway.Cli.csproj -c Release --no-restore -p:UseAppHost=false -o /out/cli

# `ogw`. Its configuration comes from the environment (ConnectionStrings__Postgres).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS cli
WORKDIR /app
COPY --from=build /out/cli .
USER $APP_UID
ENTRYPOINT ["dotnet", "ogw.dll"]

# The operator dashboard, an Orleans client of the silos (found through the membership table in PostgreSQL). It needs
# Dashboard__OperatorToken (or Dashboard__AllowAnonymousReadOnly=true) and refuses to start without.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS dashboard
# curl for the compose healthcheck (GET /readyz); the aspnet image has none.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out/dashboard .
USER $APP_UID
EXPOSE 8080
ENTRYPOINT ["dotnet", "OrleansGateway.Dashboard.dll"]

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
