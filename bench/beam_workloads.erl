%% The BEAM side of otpd-bench-runtime: the same workloads on Erlang/OTP's
%% own gen_server and supervisor, started by erl -eval. Prints one JSON
%% object per workload. This one module is the callback module of every
%% gen_server and supervisor here (init/1 tells them apart by argument), so
%% it declares no behaviour.
-module(beam_workloads).
-export([main/1, init/1, handle_call/3, handle_cast/2, handle_info/2,
         idle_start/0, crasher_start/1]).

%% The supervisors.
init({supervisor, idle}) ->
    {ok, {#{strategy => simple_one_for_one, intensity => 3, period => 5},
          [#{id => idle, start => {?MODULE, idle_start, []}}]}};
init({supervisor, crasher, Log, Intensity, Period}) ->
    {ok, {#{strategy => one_for_one, intensity => Intensity, period => Period},
          [#{id => crasher, start => {?MODULE, crasher_start, [Log]}}]}};
%% The workers.
init(idle) -> {ok, idle};
%% Crashes while its supervisor's share of crashes lasts (a counter), as
%% otpd's crasher does, so that no supervisor reaches its intensity.
init({crasher, {Log, Left}}) ->
    Log ! {init, erlang:monotonic_time(nanosecond)},
    case counters:get(Left, 1) > 0 of
        true -> counters:sub(Left, 1, 1), gen_server:cast(self(), crash);
        false -> ok
    end,
    {ok, Log};
init([]) -> {ok, 0}.

handle_call(count, _From, N) -> {reply, N, N}.
handle_cast(hit, N) -> {noreply, N + 1};
handle_cast(crash, Log) ->
    Log ! {crash, erlang:monotonic_time(nanosecond)},
    erlang:error(crash).
handle_info(_, State) -> {noreply, State}.

idle_start() -> gen_server:start_link(?MODULE, idle, []).
crasher_start(Log) -> gen_server:start_link(?MODULE, {crasher, Log}, []).

main([Casts, Calls, Spawns, Restarts, IdleMs, Intensity, Period, Tasks]) ->
    %% Crash and supervisor reports go nowhere, as on otpd's side, where
    %% no report handler is set: the figures are the runtime's, not a logger's.
    logger:set_primary_config(level, none),
    when_positive(list_to_integer(Casts), fun cast_throughput/1),
    when_positive(list_to_integer(Calls), fun call_latency/1),
    when_positive(list_to_integer(Spawns),
                  fun(N) -> spawn_workers(N, list_to_integer(IdleMs)) end),
    when_positive(list_to_integer(Restarts),
                  fun(N) -> restart_latency(N, list_to_integer(Intensity),
                                            list_to_integer(Period)) end),
    when_positive(list_to_integer(Tasks), fun task_latency/1),
    halt(0).

when_positive(N, Run) when N > 0 -> Run(N);
when_positive(_, _) -> ok.

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
    receive {done, Samples} -> print_latencies("call", "calls", N, Samples) end.

time_calls(_, 0, Acc) -> Acc;
time_calls(Server, N, Acc) ->
    T0 = erlang:monotonic_time(nanosecond),
    _ = gen_server:call(Server, count),
    T1 = erlang:monotonic_time(nanosecond),
    time_calls(Server, N - 1, [T1 - T0 | Acc]).

%% N idle gen_servers started one after the other under a simple_one_for_one
%% supervisor; then the CPU the whole VM uses while they sit idle.
spawn_workers(N, IdleMs) ->
    Parent = self(),
    spawn_opt(fun() ->
        {ok, Sup} = supervisor:start_link(?MODULE, {supervisor, idle}),
        garbage_collect(),
        Rss0 = rss_bytes(),
        Memory0 = erlang:memory(total),
        T0 = erlang:monotonic_time(nanosecond),
        start_children(Sup, N),
        T1 = erlang:monotonic_time(nanosecond),
        Rss1 = rss_bytes(),
        Memory1 = erlang:memory(total),
        statistics(runtime),
        timer:sleep(IdleMs),
        {_, IdleCpuMs} = statistics(runtime),
        N = proplists:get_value(active, supervisor:count_children(Sup)),
        unlink(Sup),
        exit(Sup, shutdown),
        Parent ! {done, T1 - T0, Rss1 - Rss0, Memory1 - Memory0, IdleCpuMs}
    end, [link]),
    receive {done, Ns, Rss, Memory, IdleCpuMs} ->
        io:format("{\"workload\":\"spawn\",\"workers\":~b,\"ns\":~b,\"rss_bytes\":~b,"
                  "\"memory_bytes\":~b,\"idle_cpu_ms\":~b}~n",
                  [N, Ns, Rss, Memory, IdleCpuMs])
    end.

start_children(_, 0) -> ok;
start_children(Sup, N) ->
    {ok, _} = supervisor:start_child(Sup, []),
    start_children(Sup, N - 1).

rss_bytes() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    [_, After] = binary:split(Status, <<"VmRSS:">>),
    [Kb | _] = string:lexemes(binary_to_list(After), " \t\nkB"),
    list_to_integer(Kb) * 1024.

%% A permanent worker under one_for_one that crashes as soon as it has
%% started; each restart is timed from the crash (taken just before the
%% error is raised) to the start of the new incarnation's init. Each
%% supervisor allows Intensity restarts in Period seconds and sees that many
%% before it is stopped and a fresh one takes over, as on otpd's side.
restart_latency(N, Intensity, Period) ->
    Parent = self(),
    spawn_opt(fun() ->
        process_flag(trap_exit, true),
        Parent ! {done, supervisors(N, Intensity, Period, [])}
    end, [link]),
    receive {done, Samples} -> print_latencies("restart", "restarts", N, Samples) end.

supervisors(0, _, _, Acc) -> Acc;
supervisors(N, Intensity, Period, Acc) ->
    Here = min(N, Intensity),
    Left = counters:new(1, []),
    counters:put(Left, 1, Here),
    {ok, Sup} = supervisor:start_link(?MODULE, {supervisor, crasher, {self(), Left},
                                                Intensity, Period}),
    Samples = collect_restarts(Here, undefined, Acc),
    exit(Sup, shutdown),
    receive {'EXIT', Sup, _} -> ok end,
    supervisors(N - Here, Intensity, Period, Samples).

collect_restarts(0, _, Acc) -> Acc;
collect_restarts(N, Crashed, Acc) ->
    receive
        {crash, T} -> collect_restarts(N, T, Acc);
        {init, _} when Crashed =:= undefined -> collect_restarts(N, undefined, Acc);
        {init, T} -> collect_restarts(N - 1, undefined, [T - Crashed | Acc])
    end.

%% Task.async + Task.await of a plain function: a process spawned linked
%% and monitored that sends its result, received by the caller.
task_latency(N) ->
    Parent = self(),
    spawn_opt(fun() -> Parent ! {done, time_tasks(N, [])} end, [link]),
    receive {done, Samples} -> print_latencies("task", "tasks", N, Samples) end.

time_tasks(0, Acc) -> Acc;
time_tasks(N, Acc) ->
    T0 = erlang:monotonic_time(nanosecond),
    Self = self(),
    Pid = spawn_link(fun() -> Self ! {self(), N} end),
    Ref = monitor(process, Pid),
    receive {Pid, N} -> ok end,
    demonitor(Ref, [flush]),
    T1 = erlang:monotonic_time(nanosecond),
    time_tasks(N - 1, [T1 - T0 | Acc]).

print_latencies(Workload, CountKey, N, Samples) ->
    Sorted = lists:sort(Samples),
    Len = length(Sorted),
    Median = lists:nth(Len div 2 + 1, Sorted),
    P99 = lists:nth((Len * 99) div 100 + 1, Sorted),
    io:format("{\"workload\":\"~s\",\"~s\":~b,\"median_ns\":~b,\"p99_ns\":~b}~n",
              [Workload, CountKey, N, Median, P99]).
