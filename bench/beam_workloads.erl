%% The BEAM side of otpd-bench-runtime: the same workloads on Erlang/OTP's
%% own gen_server, run by escript. Prints one JSON object per workload.
-module(beam_workloads).
-behaviour(gen_server).
-export([main/1, init/1, handle_call/3, handle_cast/2]).

init(_) -> {ok, 0}.
handle_call(count, _From, N) -> {reply, N, N}.
handle_cast(hit, N) -> {noreply, N + 1}.

main([Casts, Calls]) ->
    cast_throughput(list_to_integer(Casts)),
    call_latency(list_to_integer(Calls)),
    halt(0).

%% One sender casts to one server; done when the server has counted them all.
cast_throughput(N) ->
    Parent = self(),
    spawn_opt(fun() ->
        {ok, Server} = gen_server:start_link(?MODULE, [], []),
        T0 = erlang:monotonic_time(nanosecond),
        send_casts(Server, N),
        N = gen_server:call(Server, count, infinity),
        T1 = erlang:monotonic_time(nanosecond),
        Parent ! {done, T1 - T0}
    end, [link]),
    receive {done, Ns} ->
        io:format("{\"workload\":\"cast\",\"messages\":~b,\"ns\":~b}~n", [N, Ns])
    end.

send_casts(_, 0) -> ok;
send_casts(Server, N) -> gen_server:cast(Server, hit), send_casts(Server, N - 1).

%% One caller, one server, one call at a time; each round trip timed.
call_latency(N) ->
    Parent = self(),
    spawn_opt(fun() ->
        {ok, Server} = gen_server:start_link(?MODULE, [], []),
        Parent ! {done, time_calls(Server, N, [])}
    end, [link]),
    receive {done, Samples} ->
        Sorted = lists:sort(Samples),
        Len = length(Sorted),
        Median = lists:nth(Len div 2 + 1, Sorted),
        P99 = lists:nth((Len * 99) div 100 + 1, Sorted),
        io:format("{\"workload\":\"call\",\"calls\":~b,\"median_ns\":~b,\"p99_ns\":~b}~n",
                  [N, Median, P99])
    end.

time_calls(_, 0, Acc) -> Acc;
time_calls(Server, N, Acc) ->
    T0 = erlang:monotonic_time(nanosecond),
    _ = gen_server:call(Server, count),
    T1 = erlang:monotonic_time(nanosecond),
    time_calls(Server, N - 1, [T1 - T0 | Acc]).
