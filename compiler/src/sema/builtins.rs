//! Typing of builtin function calls: from a name and argument types to what the call does.
//!
//! Builtins are overloaded by argument type (`len` of a string or an array, `abs` of an int or a
//! float, `contains` on strings or arrays). [`resolve`] picks the operation and the result type,
//! or explains what was expected. It knows nothing of spans or diagnostics; the checker wraps its
//! answer.

use super::types::{Builtin, MapInfo, Type, TypeTable};
use crate::ir::RtFunc;

/// Why a builtin call does not type-check.
pub enum BuiltinError {
    /// The number of arguments is wrong; the message says what the builtin takes.
    Arity(String),
    /// Argument `index` has the wrong type; the message says what was expected.
    Arg(usize, String),
}

/// Resolves `name(args...)`. Returns `None` when `name` is not a builtin.
pub fn resolve(
    name: &str,
    args: &[Type],
    types: &mut TypeTable,
) -> Option<Result<(Builtin, Type), BuiltinError>> {
    use Type::*;
    let arity = |n: usize, usage: &str| -> Result<(), BuiltinError> {
        if args.len() == n {
            Ok(())
        } else {
            Err(BuiltinError::Arity(format!(
                "`{name}` takes {n} argument{}: `{usage}`",
                if n == 1 { "" } else { "s" }
            )))
        }
    };
    let arg = |i: usize, want: &str| BuiltinError::Arg(i, format!("`{name}` expects {want} here"));
    let rt = |f: RtFunc, ty: Type| Ok((Builtin::Rt(f), ty));
    // Any argument already in error: accept, the error was reported.
    let result = (|| -> Result<(Builtin, Type), BuiltinError> {
        match name {
            "print" | "println" | "eprintln" => {
                arity(1, &format!("{name}(value)"))?;
                let b = match name {
                    "print" => Builtin::Print,
                    "println" => Builtin::Println,
                    _ => Builtin::Eprintln,
                };
                if args[0] == Void {
                    return Err(arg(0, "a value"));
                }
                Ok((b, Void))
            }
            "exit" => {
                arity(1, "exit(status)")?;
                int_arg(args, 0, &arg)?;
                Ok((Builtin::Exit, Void))
            }
            "len" => {
                arity(1, "len(string, array, map or set)")?;
                match args[0] {
                    Str => rt(RtFunc::StrLen, Int),
                    Array(_) => Ok((Builtin::ArrayLen, Int)),
                    Map(_) | Set(_) => rt(RtFunc::MapLen, Int),
                    _ => Err(arg(0, "a string, an array, a map or a set")),
                }
            }
            // The operations under the prelude's maps and sets (stdlib/maps.kl); `__map_new`
            // takes its type from the context (`check::calls`).
            "__map_insert" => {
                arity(3, "__map_insert(map, key, value)")?;
                let info = map_arg(types, args, 0, true, &arg)?;
                key_arg(types, args, 1, info.key, &arg)?;
                key_arg(types, args, 2, info.value, &arg)?;
                rt(RtFunc::MapInsert, args[0])
            }
            "__set_insert" => {
                arity(2, "__set_insert(set, item)")?;
                let info = map_arg(types, args, 0, false, &arg)?;
                key_arg(types, args, 1, info.key, &arg)?;
                Ok((Builtin::SetInsert, args[0]))
            }
            "__map_remove" | "__map_find" => {
                arity(2, &format!("{name}(map or set, key)"))?;
                let info = map_or_set_arg(types, args, 0, &arg)?;
                key_arg(types, args, 1, info.key, &arg)?;
                if name == "__map_remove" {
                    rt(RtFunc::MapRemove, args[0])
                } else {
                    rt(RtFunc::MapFind, Int)
                }
            }
            "__map_key" | "__map_value" => {
                arity(2, &format!("{name}(map or set, index)"))?;
                let is_key = name == "__map_key";
                let info = if is_key {
                    map_or_set_arg(types, args, 0, &arg)?
                } else {
                    map_arg(types, args, 0, true, &arg)?
                };
                int_arg(args, 1, &arg)?;
                if is_key {
                    rt(RtFunc::MapKey, info.key)
                } else {
                    rt(RtFunc::MapValue, info.value)
                }
            }
            "__map_sort" => {
                arity(1, "__map_sort(map or set)")?;
                map_or_set_arg(types, args, 0, &arg)?;
                rt(RtFunc::MapSort, Void)
            }
            "__map_keys" | "__map_values" => {
                arity(1, &format!("{name}(map or set)"))?;
                if name == "__map_keys" {
                    let info = map_or_set_arg(types, args, 0, &arg)?;
                    Ok((Builtin::MapArray(RtFunc::MapKeys), types.array_of(info.key)))
                } else {
                    let info = map_arg(types, args, 0, true, &arg)?;
                    Ok((
                        Builtin::MapArray(RtFunc::MapValues),
                        types.array_of(info.value),
                    ))
                }
            }
            "to_string" => {
                arity(1, "to_string(value)")?;
                if args[0] == Void {
                    return Err(arg(0, "a value"));
                }
                Ok((Builtin::ToString, Str))
            }
            "to_float" => {
                arity(1, "to_float(int)")?;
                int_arg(args, 0, &arg)?;
                Ok((Builtin::ToFloat, Float))
            }
            "to_int" => {
                arity(1, "to_int(float)")?;
                float_arg(args, 0, &arg)?;
                Ok((Builtin::ToInt, Int))
            }
            "abs" => {
                arity(1, "abs(int or float)")?;
                match args[0] {
                    Int => rt(RtFunc::IntAbs, Int),
                    Float => rt(RtFunc::FloatAbs, Float),
                    _ => Err(arg(0, "an int or a float")),
                }
            }
            "min" | "max" | "pow" => {
                arity(2, &format!("{name}(a, b)"))?;
                let (fi, ff) = match name {
                    "min" => (RtFunc::IntMin, RtFunc::FloatMin),
                    "max" => (RtFunc::IntMax, RtFunc::FloatMax),
                    _ => (RtFunc::IntPow, RtFunc::FloatPow),
                };
                match (args[0], args[1]) {
                    (Int, Int) => rt(fi, Int),
                    (Float, Float) => rt(ff, Float),
                    (Int | Float, _) => Err(arg(
                        1,
                        &format!(
                            "a value of the first argument's type ({})",
                            types.name(args[0])
                        ),
                    )),
                    _ => Err(arg(0, "an int or a float")),
                }
            }
            "sqrt" | "floor" | "ceil" | "round" | "sin" | "cos" | "tan" | "exp" | "ln" => {
                arity(1, &format!("{name}(float)"))?;
                float_arg(args, 0, &arg)?;
                let f = match name {
                    "sqrt" => RtFunc::FloatSqrt,
                    "floor" => RtFunc::FloatFloor,
                    "ceil" => RtFunc::FloatCeil,
                    "round" => RtFunc::FloatRound,
                    "sin" => RtFunc::FloatSin,
                    "cos" => RtFunc::FloatCos,
                    "tan" => RtFunc::FloatTan,
                    "exp" => RtFunc::FloatExp,
                    _ => RtFunc::FloatLn,
                };
                rt(f, Float)
            }
            name if keel_runtime::math::FLOAT_MATH_NAMES.contains(&name) => {
                arity(1, &format!("{name}(float)"))?;
                float_arg(args, 0, &arg)?;
                let code = keel_runtime::math::FLOAT_MATH_NAMES
                    .iter()
                    .position(|&known| known == name)
                    .unwrap_or_default();
                Ok((Builtin::RtCoded(RtFunc::FloatMath, code as i64), Float))
            }
            // Under the prelude's `factorial`, `fibonacci`, ... (stdlib/math.kl), which call
            // them alone, so that their faults name the caller's line (`sema::wrappers`).
            name if int_math_code(name).is_some() => {
                let (code, count) = int_math_code(name).unwrap_or_default();
                arity(count, &format!("{name}({})", ["n", "n, m"][count - 1]))?;
                for i in 0..count {
                    int_arg(args, i, &arg)?;
                }
                let ty = if name == "__is_prime" { Bool } else { Int };
                Ok((Builtin::RtCoded(RtFunc::IntMath, code), ty))
            }
            "__string_bytes_len" | "__string_to_bytes" => {
                arity(1, &format!("{name}(string)"))?;
                str_arg(args, 0, &arg)?;
                if name == "__string_bytes_len" {
                    Ok((Builtin::RtCoded(RtFunc::StrBytes, 0), Int))
                } else {
                    rt(RtFunc::StrToBytes, types.array_of(Int))
                }
            }
            "__json_encode" => {
                arity(1, "__json_encode(value)")?;
                if args[0] == Void || !types.comparable(args[0]) {
                    return Err(arg(0, "a value without functions"));
                }
                Ok((Builtin::JsonEncode, Str))
            }
            "__string_byte_at" => {
                arity(2, "__string_byte_at(string, index)")?;
                str_arg(args, 0, &arg)?;
                int_arg(args, 1, &arg)?;
                Ok((Builtin::RtCoded(RtFunc::StrBytes, 1), Int))
            }
            "__array_insert_at" | "__array_set_at" => {
                arity(3, &format!("{name}(array, index, value)"))?;
                array_arg(args, 0, &arg)?;
                int_arg(args, 1, &arg)?;
                elem_arg(types, args, 0, 2, &arg)?;
                let f = if name == "__array_insert_at" {
                    RtFunc::ArrayInsertAt
                } else {
                    RtFunc::ArraySetAt
                };
                rt(f, args[0])
            }
            "__array_remove_at" => {
                arity(2, "__array_remove_at(array, index)")?;
                array_arg(args, 0, &arg)?;
                int_arg(args, 1, &arg)?;
                rt(RtFunc::ArrayRemoveAt, args[0])
            }
            "__array_swap" => {
                arity(3, "__array_swap(array, i, j)")?;
                array_arg(args, 0, &arg)?;
                int_arg(args, 1, &arg)?;
                int_arg(args, 2, &arg)?;
                rt(RtFunc::ArraySwap, args[0])
            }
            "hypot" | "copysign" => {
                arity(2, &format!("{name}(float, float)"))?;
                float_arg(args, 0, &arg)?;
                float_arg(args, 1, &arg)?;
                let code = i64::from(name == "copysign");
                Ok((Builtin::RtCoded(RtFunc::FloatMath2, code), Float))
            }
            "count_ones" | "count_zeros" | "leading_zeros" | "trailing_zeros" => {
                arity(1, &format!("{name}(int)"))?;
                int_arg(args, 0, &arg)?;
                let code = match name {
                    "count_ones" => 0,
                    "count_zeros" => 1,
                    "leading_zeros" => 2,
                    _ => 3,
                };
                Ok((Builtin::RtCoded(RtFunc::IntBits, code), Int))
            }
            "atan2" => {
                arity(2, "atan2(y, x)")?;
                float_arg(args, 0, &arg)?;
                float_arg(args, 1, &arg)?;
                rt(RtFunc::FloatAtan2, Float)
            }
            "parse_int" | "parse_float" | "trim" | "to_upper" | "to_lower" => {
                arity(1, &format!("{name}(string)"))?;
                str_arg(args, 0, &arg)?;
                match name {
                    "parse_int" => rt(RtFunc::ParseInt, Int),
                    "parse_float" => rt(RtFunc::ParseFloat, Float),
                    "trim" => rt(RtFunc::StrTrim, Str),
                    "to_upper" => rt(RtFunc::StrToUpper, Str),
                    _ => rt(RtFunc::StrToLower, Str),
                }
            }
            // The file operations under the prelude's `read_file`, `write_file`, ... (which
            // turn the failure `__io_error()` reports into an `Err`; runtime/src/files.rs).
            "__file_read" | "file_exists" | "__file_remove" | "__env_var" | "__str_words" => {
                arity(1, &format!("{name}(string)"))?;
                str_arg(args, 0, &arg)?;
                match name {
                    "__file_read" => rt(RtFunc::FileRead, Str),
                    "__str_words" => rt(RtFunc::StrWords, types.array_of(Str)),
                    "file_exists" => rt(RtFunc::FileExists, Bool),
                    "__file_remove" => rt(RtFunc::FileRemove, Void),
                    _ => rt(RtFunc::EnvVar, Str),
                }
            }
            "__file_write" | "__file_append" => {
                arity(2, &format!("{name}(string, string)"))?;
                str_arg(args, 0, &arg)?;
                str_arg(args, 1, &arg)?;
                if name == "__file_write" {
                    rt(RtFunc::FileWrite, Int)
                } else {
                    rt(RtFunc::FileAppend, Int)
                }
            }
            "__read_line" | "__io_error" => {
                arity(0, &format!("{name}()"))?;
                if name == "__read_line" {
                    rt(RtFunc::ReadLine, Str)
                } else {
                    rt(RtFunc::IoError, Str)
                }
            }
            // Checked in `check::calls` when it has one value; here only what is wrong.
            "type_of" => {
                arity(1, "type_of(value)")?;
                Err(arg(0, "a value"))
            }
            "chr" => {
                arity(1, "chr(code)")?;
                int_arg(args, 0, &arg)?;
                rt(RtFunc::StrChr, Str)
            }
            "ord" => {
                arity(1, "ord(string)")?;
                str_arg(args, 0, &arg)?;
                rt(RtFunc::StrOrd, Int)
            }
            "sleep_ms" => {
                arity(1, "sleep_ms(ms)")?;
                int_arg(args, 0, &arg)?;
                rt(RtFunc::SleepMs, Void)
            }
            "split" | "starts_with" | "ends_with" => {
                arity(2, &format!("{name}(string, string)"))?;
                str_arg(args, 0, &arg)?;
                str_arg(args, 1, &arg)?;
                match name {
                    "split" => rt(RtFunc::StrSplit, types.array_of(Str)),
                    "starts_with" => rt(RtFunc::StrStartsWith, Bool),
                    _ => rt(RtFunc::StrEndsWith, Bool),
                }
            }
            "contains" | "index_of" => {
                arity(2, &format!("{name}(string or array, value)"))?;
                let is_contains = name == "contains";
                match args[0] {
                    Str => {
                        str_arg(args, 1, &arg)?;
                        rt(
                            if is_contains {
                                RtFunc::StrContains
                            } else {
                                RtFunc::StrIndexOf
                            },
                            if is_contains { Bool } else { Int },
                        )
                    }
                    Array(_) => {
                        elem_arg(types, args, 0, 1, &arg)?;
                        rt(
                            if is_contains {
                                RtFunc::ArrayContains
                            } else {
                                RtFunc::ArrayIndexOf
                            },
                            if is_contains { Bool } else { Int },
                        )
                    }
                    _ => Err(arg(0, "a string or an array")),
                }
            }
            "replace" => {
                arity(3, "replace(string, from, to)")?;
                for i in 0..3 {
                    str_arg(args, i, &arg)?;
                }
                rt(RtFunc::StrReplace, Str)
            }
            "substring" => {
                arity(3, "substring(string, start, end)")?;
                str_arg(args, 0, &arg)?;
                int_arg(args, 1, &arg)?;
                int_arg(args, 2, &arg)?;
                rt(RtFunc::StrSubstring, Str)
            }
            "char_at" => {
                arity(2, "char_at(string, index)")?;
                str_arg(args, 0, &arg)?;
                int_arg(args, 1, &arg)?;
                rt(RtFunc::StrCharAt, Str)
            }
            "join" => {
                arity(2, "join([string], separator)")?;
                if !matches!(args[0], Array(_) | Error)
                    || !types.elem(args[0]).is_none_or(|e| e == Str || e == Error)
                {
                    return Err(arg(0, "a [string]"));
                }
                str_arg(args, 1, &arg)?;
                rt(RtFunc::StrJoin, Str)
            }
            "input" | "args" | "clock_ms" | "live_retries" => {
                arity(0, &format!("{name}()"))?;
                match name {
                    "input" => rt(RtFunc::Input, Str),
                    "args" => rt(RtFunc::Args, types.array_of(Str)),
                    "clock_ms" => rt(RtFunc::ClockMs, Int),
                    _ => rt(RtFunc::LiveRetries, Int),
                }
            }
            "push" => {
                arity(2, "push(array, value)")?;
                array_arg(args, 0, &arg)?;
                elem_arg(types, args, 0, 1, &arg)?;
                rt(RtFunc::ArrayPush, args[0])
            }
            "pop" | "reverse" => {
                arity(1, &format!("{name}(array)"))?;
                array_arg(args, 0, &arg)?;
                rt(
                    if name == "pop" {
                        RtFunc::ArrayPop
                    } else {
                        RtFunc::ArrayReverse
                    },
                    args[0],
                )
            }
            "sort" => {
                arity(1, "sort(array)")?;
                array_arg(args, 0, &arg)?;
                match types.elem(args[0]) {
                    Some(Int | Float | Str | Error) | None => rt(RtFunc::ArraySort, args[0]),
                    Some(_) => Err(arg(0, "an array of ints, floats or strings")),
                }
            }
            "slice" => {
                arity(3, "slice(array, start, end)")?;
                array_arg(args, 0, &arg)?;
                int_arg(args, 1, &arg)?;
                int_arg(args, 2, &arg)?;
                rt(RtFunc::ArraySlice, args[0])
            }
            "concat" => {
                arity(2, "concat(array, array)")?;
                array_arg(args, 0, &arg)?;
                if !args[1].fits(args[0]) {
                    return Err(arg(1, &format!("a `{}`", types.name(args[0]))));
                }
                rt(RtFunc::ArrayConcat, args[0])
            }
            "array_fill" => {
                arity(2, "array_fill(length, value)")?;
                int_arg(args, 0, &arg)?;
                if args[1] == Void {
                    return Err(arg(1, "a value"));
                }
                if args[1] == Error {
                    return Ok((Builtin::ArrayFill, Error));
                }
                Ok((Builtin::ArrayFill, types.array_of(args[1])))
            }
            _ => Err(BuiltinError::Arity(String::new())),
        }
    })();
    match result {
        Err(BuiltinError::Arity(m)) if m.is_empty() => None,
        other => Some(other),
    }
}

type ArgError<'a> = dyn Fn(usize, &str) -> BuiltinError + 'a;

/// The code and argument count of `__factorial`, `__fibonacci`, ...: the function's position in
/// `keel_runtime::math::INT_MATH_NAMES`.
fn int_math_code(name: &str) -> Option<(i64, usize)> {
    let name = name.strip_prefix("__")?;
    (keel_runtime::math::INT_MATH_NAMES.iter())
        .position(|&(known, _)| known == name)
        .map(|code| (code as i64, keel_runtime::math::INT_MATH_NAMES[code].1))
}

fn expect(
    args: &[Type],
    i: usize,
    want: Type,
    what: &str,
    arg: &ArgError,
) -> Result<(), BuiltinError> {
    if args[i].fits(want) {
        Ok(())
    } else {
        Err(arg(i, what))
    }
}

fn int_arg(args: &[Type], i: usize, arg: &ArgError) -> Result<(), BuiltinError> {
    expect(args, i, Type::Int, "an int", arg)
}

fn float_arg(args: &[Type], i: usize, arg: &ArgError) -> Result<(), BuiltinError> {
    expect(args, i, Type::Float, "a float", arg)
}

fn str_arg(args: &[Type], i: usize, arg: &ArgError) -> Result<(), BuiltinError> {
    expect(args, i, Type::Str, "a string", arg)
}

fn array_arg(args: &[Type], i: usize, arg: &ArgError) -> Result<(), BuiltinError> {
    if matches!(args[i], Type::Array(_) | Type::Error) {
        Ok(())
    } else {
        Err(arg(i, "an array"))
    }
}

/// Argument `i` must be a map (`map`) or a set; its key and value types (`Error` when it is in
/// error).
fn map_arg(
    types: &TypeTable,
    args: &[Type],
    i: usize,
    map: bool,
    arg: &ArgError,
) -> Result<MapInfo, BuiltinError> {
    match (args[i], types.map_info(args[i])) {
        (Type::Map(_), Some(info)) if map => Ok(info),
        (Type::Set(_), Some(info)) if !map => Ok(info),
        (Type::Error, _) => Ok(ERROR_MAP),
        _ => Err(arg(i, if map { "a map" } else { "a set" })),
    }
}

/// Argument `i` must be a map or a set.
fn map_or_set_arg(
    types: &TypeTable,
    args: &[Type],
    i: usize,
    arg: &ArgError,
) -> Result<MapInfo, BuiltinError> {
    match (args[i], types.map_info(args[i])) {
        (_, Some(info)) => Ok(info),
        (Type::Error, _) => Ok(ERROR_MAP),
        _ => Err(arg(i, "a map or a set")),
    }
}

/// What a map argument in error stands for: keys and values of no known type.
const ERROR_MAP: MapInfo = MapInfo {
    key: Type::Error,
    value: Type::Error,
    entry: None,
};

/// Argument `i` must be a value of type `want` (a key or value of a map).
fn key_arg(
    types: &TypeTable,
    args: &[Type],
    i: usize,
    want: Type,
    arg: &ArgError,
) -> Result<(), BuiltinError> {
    if args[i].fits(want) {
        Ok(())
    } else {
        Err(arg(i, &format!("a `{}`", types.name(want))))
    }
}

/// Argument `i` must be an element of the array in argument `array`.
fn elem_arg(
    types: &TypeTable,
    args: &[Type],
    array: usize,
    i: usize,
    arg: &ArgError,
) -> Result<(), BuiltinError> {
    match types.elem(args[array]) {
        Some(elem) if !args[i].fits(elem) => Err(arg(
            i,
            &format!("a `{}` (an element of the array)", types.name(elem)),
        )),
        _ => Ok(()),
    }
}
