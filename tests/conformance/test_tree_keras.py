"""`kerastorch.tree` against `keras.tree` (Keras 3 on JAX, whose tree is optree): each case runs
the same call in both and compares the result's repr, or the error's type and message."""

import collections
import time
import typing
import warnings

import numpy as np
import pytest
import torch

import kerastorch

pytestmark = pytest.mark.conformance

Point = collections.namedtuple("Point", ["y", "x"])
SameName = collections.namedtuple("Point", ["y", "x"])
OD = collections.OrderedDict
DD = collections.defaultdict
dq = collections.deque


class Typed(typing.NamedTuple):
    a: int
    b: int = 2


class MyList(list):
    pass


class MyDict(dict):
    pass


class FieldsOnly(tuple):
    _fields = ("a",)


ARR = np.arange(3.0)
TEN = torch.arange(3.0)
STRUCT_TIME = time.gmtime(0)
TMAX = torch.max(torch.ones(2, 2), 0)
TMIN = torch.min(torch.ones(2, 2), 0)
NESTED = {"b": 1, "a": [2, (3, None)], "c": Point(4, [5, {"z": 6, "y": 7}]), "d": dq([8])}


def pair(*a):
    return a


CASES = {
    # is_nested
    "is_nested_int": lambda t: t.is_nested(42),
    "is_nested_none": lambda t: t.is_nested(None),
    "is_nested_dict": lambda t: t.is_nested({"foo": 42}),
    "is_nested_empty": lambda t: [t.is_nested(x) for x in ([], (), {}, dq(), OD())],
    "is_nested_leaves": lambda t: [t.is_nested(x) for x in (ARR, TEN, "s", b"b", {1, 2},
                                                            MyList([1]), MyDict(a=1),
                                                            FieldsOnly((1,)), torch.Size([2]),
                                                            list, Point)],
    "is_nested_nodes": lambda t: [t.is_nested(x) for x in (Point(1, 2), Typed(1), STRUCT_TIME,
                                                           TMAX, DD(int))],
    # flatten
    "flatten_nested": lambda t: t.flatten(NESTED),
    "flatten_doc": lambda t: t.flatten([[1, 2, 3], [4, [5], [[6]]]]),
    "flatten_none": lambda t: t.flatten(None),
    "flatten_leaf": lambda t: t.flatten(1),
    "flatten_int_keys": lambda t: t.flatten({100: "world!", 6: "Hello"}),
    "flatten_mixed_keys": lambda t: t.flatten({"a": 1, 1: 2, 0.5: 3, "b": 4, 0: 5}),
    "flatten_none_key": lambda t: t.flatten({None: 1, "a": 2}),
    "flatten_tuple_keys": lambda t: t.flatten({(1, 2): "a", (0, 5): "b"}),
    "flatten_unsortable_keys": lambda t: t.flatten({Point: 1, int: 2, str: 3}),
    "flatten_ordered": lambda t: t.flatten(OD([("b", 1), ("a", 2)])),
    "flatten_defaultdict": lambda t: t.flatten(DD(list, {"b": 1, "a": 2})),
    "flatten_deque": lambda t: t.flatten(dq([1, [2]])),
    "flatten_empties": lambda t: [t.flatten(x) for x in ([], {}, (), [[]], [None], [(), {}])],
    "flatten_arrays": lambda t: t.flatten({"b": TEN, "a": [ARR, "abc", {1, 2}]}),
    "flatten_namedtuples": lambda t: t.flatten([Point(1, 2), Typed(3), MyList([4])]),
    "flatten_structseq": lambda t: t.flatten([STRUCT_TIME, TMAX]),
    # flatten_with_path
    "paths_nested": lambda t: t.flatten_with_path(NESTED),
    "paths_leaf": lambda t: t.flatten_with_path(3),
    "paths_none": lambda t: t.flatten_with_path(None),
    "paths_ordered": lambda t: t.flatten_with_path(OD([("b", 1), ("a", [2])])),
    "paths_empty": lambda t: [t.flatten_with_path(x) for x in ([], [[]], {"a": {}})],
    "paths_doc": lambda t: t.flatten_with_path([{"foo": 42}]),
    "paths_structseq": lambda t: t.flatten_with_path(STRUCT_TIME),
    "paths_typed": lambda t: t.flatten_with_path(Typed(1)),
    # map_structure
    "map_doc": lambda t: t.map_structure(lambda v: v ** 2, [[1], [2], [3]]),
    "map_two": lambda t: t.map_structure(lambda x, y: x * y, [[1], [2], [3]], [[1], [2], [3]]),
    "map_namedtuple": lambda t: t.map_structure(lambda v: v * 2, Point(1, 2)),
    "map_typed": lambda t: t.map_structure(lambda v: v + 1, Typed(1)),
    "map_nested": lambda t: t.map_structure(str, NESTED),
    "map_dict_order": lambda t: t.map_structure(lambda x: x, {"b": 1, "a": 2}),
    "map_dicts_by_key": lambda t: t.map_structure(pair, {"b": 1, "a": 2}, {"a": 3, "b": 4}),
    "map_dict_with_ordered": lambda t: t.map_structure(pair, {"b": 1, "a": 2},
                                                       OD([("a", 3), ("b", 4)])),
    "map_ordered_with_dict": lambda t: t.map_structure(pair, OD([("a", 3), ("b", 4)]),
                                                       {"b": 1, "a": 2}),
    "map_ordered_both": lambda t: t.map_structure(pair, OD([("a", 3), ("b", 4)]),
                                                  OD([("b", 3), ("a", 4)])),
    "map_defaultdict": lambda t: t.map_structure(pair, DD(int, a=1), {"a": 1}),
    "map_dict_with_defaultdict": lambda t: t.map_structure(pair, {"a": 1}, DD(int, a=1)),
    "map_deque_maxlen": lambda t: t.map_structure(pair, dq([1], maxlen=3), dq([1])),
    "map_structseq": lambda t: t.map_structure(pair, STRUCT_TIME, STRUCT_TIME),
    "map_torch_structseq": lambda t: t.map_structure(lambda v: v * 2, TMAX),
    "map_mixed_keys": lambda t: t.map_structure(pair, {1: 1, "a": 2}, {"a": 2, 1: 3}),
    "map_none_leaf": lambda t: t.map_structure(lambda x: 1, [None, [None, 2]]),
    "map_none": lambda t: t.map_structure(lambda x: x, None),
    "map_none_not_leaf": lambda t: t.map_structure(lambda x: 2, None, none_is_leaf=False),
    "map_none_kept": lambda t: t.map_structure(lambda x: 1, [None, 2], none_is_leaf=False),
    "map_none_kept_dict": lambda t: t.map_structure(lambda x: 1, {"a": None},
                                                    none_is_leaf=False),
    "map_none_kept_two": lambda t: t.map_structure(lambda x, y: 1, [None, 2], [None, 3],
                                                   none_is_leaf=False),
    "map_none_vs_value": lambda t: t.map_structure(pair, [None, 2], [1, 3]),
    "map_value_vs_none": lambda t: t.map_structure(pair, [1, 2], [None, 3]),
    "map_leaf": lambda t: t.map_structure(lambda x: x, 1),
    "map_leaves": lambda t: t.map_structure(pair, 1, 2),
    "map_tensors": lambda t: t.map_structure(lambda a, b: a + b, {"x": TEN, "y": [TEN]},
                                             {"x": TEN, "y": [TEN]}),
    "map_arrays": lambda t: t.map_structure(lambda a: a * 2, (ARR, [ARR])),
    "map_empty": lambda t: t.map_structure(pair, [], []),
    "map_deque": lambda t: t.map_structure(lambda x: x * 2, dq([1, 2])),
    # map_structure errors
    "map_err_no_structure": lambda t: t.map_structure(lambda x: x),
    "map_err_key_mismatch": lambda t: t.map_structure(pair, {"b": 1, "a": 2}, {"a": 3, "c": 4}),
    "map_err_missing_key": lambda t: t.map_structure(pair, {"a": 1, "b": 2}, {"a": 1}),
    "map_err_extra_key": lambda t: t.map_structure(pair, {"a": 1}, {"a": 1, "b": 2}),
    "map_err_empty_dict": lambda t: t.map_structure(pair, {}, {"a": 1}),
    "map_err_many_keys": lambda t: t.map_structure(
        pair, {"d": 1, "b": 1, "a": 2, "z": 0}, OD([("y", 1), ("c", 1), ("a", 2), ("x", 0)])),
    "map_err_ordered_keys": lambda t: t.map_structure(
        pair, OD([("d", 1), ("b", 1), ("a", 2), ("z", 0)]),
        OD([("y", 1), ("c", 1), ("a", 2), ("x", 0)])),
    "map_err_ordered_vs_dict": lambda t: t.map_structure(pair, OD([("c", 1), ("a", 2)]),
                                                         {"b": 1, "a": 2}),
    "map_err_defaultdict_keys": lambda t: t.map_structure(pair, DD(int, a=1), DD(int, b=1)),
    "map_err_mixed_keys": lambda t: t.map_structure(pair, {1: 1, "a": 2}, {"b": 1, 2: 2}),
    "map_err_list_vs_tuple": lambda t: t.map_structure(pair, [1, 2], (3, 4)),
    "map_err_tuple_vs_list": lambda t: t.map_structure(pair, (1, 2), [3, 4]),
    "map_err_list_vs_sublist": lambda t: t.map_structure(pair, [1, 2], MyList([3, 4])),
    "map_err_list_arity": lambda t: t.map_structure(pair, [1, 2], [3, 4, 5]),
    "map_err_tuple_arity": lambda t: t.map_structure(pair, (1, 2), (3,)),
    "map_err_deque_arity": lambda t: t.map_structure(pair, dq([1]), dq([1, 2])),
    "map_err_deque_vs_list": lambda t: t.map_structure(pair, dq([1, 2]), [1, 2]),
    "map_err_dict_vs_list": lambda t: t.map_structure(pair, {"a": 1}, [1]),
    "map_err_list_vs_dict": lambda t: t.map_structure(pair, [1], {"a": 1}),
    "map_err_dict_vs_leaf": lambda t: t.map_structure(pair, {"a": 1}, 1),
    "map_err_deeper_second": lambda t: t.map_structure(pair, [1, 2], [3, [4]]),
    "map_err_shallower_second": lambda t: t.map_structure(pair, [1, [2]], [3, 4]),
    "map_err_leaf_vs_list": lambda t: t.map_structure(pair, 1, [2]),
    "map_err_list_vs_leaf": lambda t: t.map_structure(pair, [1], 2),
    "map_err_namedtuple_vs_tuple": lambda t: t.map_structure(pair, Point(1, 2), (3, 4)),
    "map_err_tuple_vs_namedtuple": lambda t: t.map_structure(pair, (1, 2), Point(3, 4)),
    "map_err_namedtuple_types": lambda t: t.map_structure(pair, Point(1, 2), SameName(3, 4)),
    "map_err_namedtuple_vs_list": lambda t: t.map_structure(pair, Point(1, 2), [1, 2]),
    "map_err_structseq_vs_tuple": lambda t: t.map_structure(pair, STRUCT_TIME,
                                                            tuple(STRUCT_TIME)),
    "map_err_tuple_vs_structseq": lambda t: t.map_structure(pair, tuple(STRUCT_TIME),
                                                            STRUCT_TIME),
    "map_err_structseq_vs_namedtuple": lambda t: t.map_structure(pair, STRUCT_TIME,
                                                                 Point(1, 2)),
    "map_err_namedtuple_vs_structseq": lambda t: t.map_structure(pair, Point(1, 2),
                                                                 STRUCT_TIME),
    "map_err_structseq_types": lambda t: t.map_structure(pair, TMAX, TMIN),
    "map_err_third": lambda t: t.map_structure(pair, [1], [2], [3, 4]),
    "map_err_first_mismatch_wins": lambda t: t.map_structure(
        pair, [1, (2, 3)], [1, (2, 3, 4)], [[1], (2, 3)]),
    "map_err_nested_arity": lambda t: t.map_structure(pair, [1, (2, 3)], [[1], (2, 3, 4)]),
    "map_err_deep_in_dict": lambda t: t.map_structure(pair, {"a": 1}, {"a": 1},
                                                      {"a": [2]}),
    "map_err_none_node": lambda t: t.map_structure(pair, None, 1, none_is_leaf=False),
    "map_err_none_node_list": lambda t: t.map_structure(pair, None, [1], none_is_leaf=False),
    "map_err_none_in_list": lambda t: t.map_structure(pair, [None, 2], [1, 3],
                                                      none_is_leaf=False),
    "map_err_value_vs_none_node": lambda t: t.map_structure(pair, [1, 2], [None, 3],
                                                            none_is_leaf=False),
    "map_err_leaf_first_none": lambda t: t.map_structure(pair, [None], [[1]]),
    "map_err_not_callable": lambda t: t.map_structure(3, [1]),
    "map_err_not_callable_leaf": lambda t: t.map_structure(3, 1),
    # map_structure_up_to
    "up_to_leaf_shallow": lambda t: t.map_structure_up_to(1, pair, [1, 2]),
    "up_to_dict": lambda t: t.map_structure_up_to({"a": 1}, pair, {"a": [1, 2]}),
    "up_to_nested": lambda t: t.map_structure_up_to([[1], 2], pair, [[None], 2]),
    "up_to_empty": lambda t: t.map_structure_up_to([[], 2], pair, [[], 2]),
    "up_to_namedtuples": lambda t: t.map_structure_up_to(
        Point(x=2, y=3), lambda a, b: (a + b.x) * b.y, Point(x=2, y=3),
        Point(x=Point(x=1, y=2), y=Point(x=2, y=3))),
    "up_to_lists": lambda t: t.map_structure_up_to(
        ["evens", ["odds", "primes"]], lambda name, sec: f"first_{len(sec)}_{name}",
        ["evens", ["odds", "primes"]], [[2, 4, 6, 8], [[1, 3, 5, 7, 9], [3, 5, 7]]]),
    "up_to_err_none_shallow": lambda t: t.map_structure_up_to([None, None], len,
                                                              [[1, 1], [2, 2]]),
    "up_to_err_none_leaf": lambda t: t.map_structure_up_to(None, pair, [1, 2]),
    "up_to_err_none_inside": lambda t: t.map_structure_up_to([[None], 2], pair, [[1], 2]),
    "up_to_err_shallower": lambda t: t.map_structure_up_to([None, [None, None]], pair,
                                                           [[1, 1], [2, 2]], [3, 4]),
    "up_to_err_keys": lambda t: t.map_structure_up_to({"a": 1}, pair, {"b": [1, 2]}),
    "up_to_err_type": lambda t: t.map_structure_up_to([1, 2], pair, (1, 2)),
    "up_to_err_arity": lambda t: t.map_structure_up_to([[], 2], pair, [[1], 2]),
    "up_to_err_no_structure": lambda t: t.map_structure_up_to([1], pair),
    # assert_same_structure / assert_same_paths
    "same_ok": lambda t: [t.assert_same_structure(a, b) for a, b in [
        ([(0, 1)], [(2, 3)]), (1, 10), ((), ()), (dq([1, 2]), dq([10, 20])),
        (Point(y=1, x=2), Point(x=10, y=20)), ({"b": 2, "a": 1}, {"a": 10, "b": 20}),
        ({"a": 1}, OD(a=2)), (OD(b=1, a=2), OD(a=1, b=2)), (None, 2), (ARR, 1), (TEN, ARR),
        (DD(int, a=1), {"a": 3})]],
    "same_err_tuple_list": lambda t: t.assert_same_structure([(0, 1)], [[2, 3]]),
    "same_err_deeper": lambda t: t.assert_same_structure([0, 1], [0, [1]]),
    "same_err_shallower": lambda t: t.assert_same_structure([0, [1]], [0, 1]),
    "same_err_arity": lambda t: t.assert_same_structure([0, 1], [0, 1, 2]),
    "same_err_leaf_list": lambda t: t.assert_same_structure(1, [2]),
    "same_err_list_leaf": lambda t: t.assert_same_structure([1], 2),
    "same_err_none_list": lambda t: t.assert_same_structure([None], [[1]]),
    "same_err_array_list": lambda t: t.assert_same_structure(ARR, [1]),
    "same_err_namedtuples": lambda t: t.assert_same_structure(Point(0, 1), SameName(2, 3)),
    "paths_same_ok": lambda t: [t.assert_same_paths(a, b) for a, b in [
        ([0, 1], (2, 3)), (Point(0, 1), (2, 3)), (Point(0, 1), SameName(2, 3)),
        (dq([1]), [2]), ({"a": 1}, OD(a=1)), (STRUCT_TIME, list(range(9)))]],
    "paths_err_b_extra": lambda t: t.assert_same_paths({"a": 1, "b": [1]},
                                                       {"a": 1, "b": [1, 2]}),
    "paths_err_a_extra": lambda t: t.assert_same_paths({"a": 1, "b": [1, 2]},
                                                       {"a": 1, "b": [1]}),
    "paths_err_both": lambda t: t.assert_same_paths({"a": 1}, {"c": 1}),
    "paths_err_leaf": lambda t: t.assert_same_paths(1, [1]),
    "paths_err_empty": lambda t: t.assert_same_paths([None], [[]]),
    # pack_sequence_as
    "pack_dict_doc": lambda t: t.pack_sequence_as({"key3": "", "key1": "", "key2": ""},
                                                  ["value1", "value2", "value3"]),
    "pack_tuples_doc": lambda t: t.pack_sequence_as((("a", "b"), ("c", "d", "e"), "f"),
                                                    [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    "pack_nested_dict_doc": lambda t: t.pack_sequence_as(
        {"key3": {"c": ("alpha", "beta"), "a": ("gamma")}, "key1": {"e": "val1", "d": "val2"}},
        ["val2", "val1", 3.0, 1.0, 2.0]),
    "pack_leaf": lambda t: t.pack_sequence_as(1, [5]),
    "pack_none": lambda t: t.pack_sequence_as(None, [None]),
    "pack_none_leaf": lambda t: t.pack_sequence_as([None, 1], [3, 4]),
    "pack_empty": lambda t: t.pack_sequence_as([], []),
    "pack_string": lambda t: t.pack_sequence_as([1, 2], "ab"),
    "pack_generator": lambda t: t.pack_sequence_as([1, 2], (x for x in [7, 8])),
    "pack_array": lambda t: t.pack_sequence_as([1, 2], np.array([7, 8])),
    "pack_tuple": lambda t: t.pack_sequence_as([1, 2], (7, 8)),
    "pack_namedtuple": lambda t: t.pack_sequence_as(Point(1, [2]), [3, 4]),
    "pack_defaultdict": lambda t: t.pack_sequence_as(DD(list, b=1, a=2), [3, 4]),
    "pack_ordered": lambda t: t.pack_sequence_as(OD(b=1, a=2), [3, 4]),
    "pack_deque": lambda t: t.pack_sequence_as(dq([1, 2], maxlen=4), [3, 4]),
    "pack_structseq": lambda t: t.pack_sequence_as(STRUCT_TIME, list(range(9))),
    "pack_mixed_keys": lambda t: t.pack_sequence_as({1: 1, "a": 2}, [5, 6]),
    "pack_tensors": lambda t: t.pack_sequence_as(["a", ("b",)], [TEN, ARR]),
    "pack_roundtrip": lambda t: t.pack_sequence_as(NESTED, t.flatten(NESTED)),
    "pack_err_too_few": lambda t: t.pack_sequence_as([1, 2], [1]),
    "pack_err_too_many": lambda t: t.pack_sequence_as([1, 2], [1, 2, 3]),
    "pack_err_too_many_nested": lambda t: t.pack_sequence_as([1, [2, 3]], [1, 2, 3, 4]),
    "pack_err_leaf_too_many": lambda t: t.pack_sequence_as(1, [5, 6]),
    "pack_err_empty_too_many": lambda t: t.pack_sequence_as([], [1]),
    "pack_err_namedtuple": lambda t: t.pack_sequence_as(Point(1, [2]), [3, 4, 5]),
    # traverse
    "traverse_replace_tuples": lambda t: t.traverse(
        lambda x: t.MAP_TO_NONE if isinstance(x, tuple) else None,
        [(1, 2), [3], {"b": 4, "a": (5,)}]),
    "traverse_replace_tuples_bottom_up": lambda t: t.traverse(
        lambda x: t.MAP_TO_NONE if isinstance(x, tuple) else None,
        [(1, 2), [3], {"b": 4, "a": (5,)}], top_down=False),
    "traverse_ints": lambda t: t.traverse(lambda x: x * 10 if isinstance(x, int) else None,
                                          [(1, 2), [3], {"b": 4, "a": (5,)}]),
    "traverse_ints_bottom_up": lambda t: t.traverse(
        lambda x: x * 10 if isinstance(x, int) else None, [(1, 2), [3], {"b": 4, "a": (5,)}],
        top_down=False),
    "traverse_stop_descent": lambda t: t.traverse(
        lambda x: [x] if isinstance(x, int) else None, [1, [2]]),
    "traverse_leaf": lambda t: t.traverse(lambda x: None, 3),
    "traverse_leaf_to_none": lambda t: t.traverse(lambda x: t.MAP_TO_NONE, 3),
    "traverse_none": lambda t: t.traverse(lambda x: 0 if x is None else None, [None, 1]),
    "traverse_empty_list": lambda t: t.traverse(lambda x: "L" if x == [] else None,
                                                [[], ()], top_down=False),
    "traverse_keeps_types": lambda t: [t.traverse(lambda x: None, s) for s in (
        Point(1, [2]), OD(b=1, a=2), {"b": 1, "a": 2}, dq([1, 2], maxlen=5), STRUCT_TIME,
        DD(int, b=1, a=2))],
    "traverse_err_not_callable": lambda t: t.traverse(5, 3),
    # lists_to_tuples / map_shape_structure
    "l2t_nested": lambda t: t.lists_to_tuples([1, [2, {"a": [3]}], (4, [5]), Point([1], 2)]),
    "l2t_simple": lambda t: [t.lists_to_tuples(x) for x in ([], 3, dq([[1]]), None)],
    "shape_mixed": lambda t: t.map_shape_structure(
        lambda s: ("S", s),
        [(None, 3), {"b": [2, 3], "a": (4,)}, 5, None, (), [(1,), 2.0], ("a", 1)]),
    "shape_top": lambda t: [t.map_shape_structure(lambda s: ("S", s), x) for x in (
        (1, 2), 1, [True, 1], Point(1, 2), [np.int64(2), 1], torch.Size([3, 4]))],
    "shape_err_not_callable": lambda t: t.map_shape_structure(None, (1,)),
}


def _outcome(fn, lib_tree):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ("ok", repr(fn(lib_tree)))
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            return ("error", type(e).__name__, str(e))


# Errors whose type is Keras' but whose text is ours (Keras' comes from Python or optree
# internals: "'int' object is not callable", optree's pybind signature dump).
TYPE_ONLY = {"map_err_not_callable", "map_err_not_callable_leaf", "traverse_err_not_callable",
             "shape_err_not_callable"}


@pytest.mark.parametrize("case", list(CASES))
def test_tree_matches_keras(keras3, case):
    fn = CASES[case]
    expected = _outcome(fn, keras3.tree)
    got = _outcome(fn, kerastorch.tree)
    if case in TYPE_ONLY:
        assert got[:2] == expected[:2], (got, expected)
        assert got[0] == "error" and "func" in got[2]
    else:
        assert got == expected


def _visits(t, top_down):
    seen = []

    def visit(x):
        seen.append(repr(x))

    t.traverse(visit, [(1, 2), [3], {"b": 4, "a": 5}, Point(6, 7)], top_down=top_down)
    return seen


@pytest.mark.parametrize("top_down", [True, False])
def test_traverse_visits_in_keras_order(keras3, top_down):
    assert _visits(kerastorch.tree, top_down) == _visits(keras3.tree, top_down)


def test_map_calls_func_in_flatten_order(keras3):
    def calls(t, fn):
        seen = []
        fn(t, lambda *a: seen.append(a) or len(seen))
        return seen

    runs = [
        lambda t, f: t.map_structure(f, NESTED),
        lambda t, f: t.map_structure(f, {"b": 1, "a": 2}, OD([("a", 3), ("b", 4)])),
        lambda t, f: t.map_shape_structure(f, {"b": (1, 2), "a": [3, [None]]}),
        lambda t, f: t.map_structure_up_to({"b": 0, "a": 0}, f, {"b": [1], "a": [2]}),
    ]
    for run in runs:
        assert calls(kerastorch.tree, run) == calls(keras3.tree, run)


@pytest.mark.parametrize("check_types", [True, False])
def test_check_types_is_deprecated(keras3, check_types):
    def caught(t):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t.assert_same_structure([1], [2], check_types=check_types)
        return [(x.category, str(x.message)) for x in w]

    assert caught(kerastorch.tree) == caught(keras3.tree)
    assert len(caught(kerastorch.tree)) == 1


def test_public_names_and_map_to_none(keras3):
    public = {n for n in dir(keras3.tree) if not n.startswith("_")}
    assert public <= set(dir(kerastorch.tree))
    assert kerastorch.tree.traverse(lambda x: kerastorch.tree.MAP_TO_NONE, [1]) is None
    assert kerastorch.tree.__name__ == "kerastorch.tree"


def test_leaves_are_not_copied():
    t = kerastorch.tree
    x = torch.ones(2)
    out = t.map_structure(lambda v: v, {"a": [x]})
    assert out["a"][0] is x and t.flatten((x,))[0] is x


def test_bad_arguments_name_the_argument():
    t = kerastorch.tree
    with pytest.raises(TypeError, match="flat_sequence"):
        t.pack_sequence_as([1, 2], 5)
    with pytest.raises(TypeError, match="none_is_leaf"):
        t.map_structure(lambda x: x, [1], none_is_leaf="yes")
    with pytest.raises(TypeError, match="func"):
        t.map_structure_up_to([1], None, [1])
