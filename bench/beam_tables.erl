%% The ETS side of otpd-bench-table: lookups on a set with read_concurrency,
%% from one and from two processes. Prints one line per reader count in the
%% same columns as the C++ side (wall time only: the BEAM gives no CPU time
%% per process).
-module(beam_tables).
-export([main/1]).

main([Lookups, Keys]) ->
    N = list_to_integer(Lookups),
    K = list_to_integer(Keys),
    T = ets:new(bench, [set, public, {read_concurrency, true}]),
    [ets:insert(T, {I, I * 2}) || I <- lists:seq(0, K - 1)],
    run(T, N, K, 1),
    run(T, N, K, 2),
    halt(0).

run(T, N, K, Readers) ->
    Parent = self(),
    [spawn_link(fun() ->
         T0 = erlang:monotonic_time(nanosecond),
         _ = loop(T, N, K, Offset, 0),
         Parent ! {done, erlang:monotonic_time(nanosecond) - T0}
     end) || Offset <- lists:seq(0, Readers - 1)],
    Ns = [receive {done, X} -> X end || _ <- lists:seq(1, Readers)],
    io:format("~-26s ~7b ~12.1f ~12s~n",
              ["ETS set (BEAM)", Readers, lists:sum(Ns) / Readers / N, "-"]).

loop(_, 0, _, _, Sum) -> Sum;
loop(T, I, K, Offset, Sum) ->
    [{_, V}] = ets:lookup(T, (I * 7 + Offset) rem K),
    loop(T, I - 1, K, Offset, Sum + V).
