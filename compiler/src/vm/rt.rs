//! Runtime calls: `call_rt` dispatched to the runtime's Rust functions.
//!
//! One `match` on [`RtFunc`] calls the function the IR names with its documented signature
//! (docs/values.md): registers are untagged words, so each argument is converted to the
//! parameter's machine type (`f64` from its bits, pointers from addresses, bools as 0/1 `i64`)
//! and the result back to a word. Functions that take a fault site get the instruction's site
//! text. These are the same functions the JIT and native executables call, so every backend
//! computes, prints and faults alike.
//!
//! What this module does not do: decide ownership (the runtime function consumes exactly the
//! arguments its signature marks *owned*) or read registers (the interpreter passes values).

use keel_runtime as krt;

use crate::ir::RtFunc;

/// The most parameters a runtime function has (without the site).
pub const MAX_PARAMS: usize = 3;

/// Calls `func` with `args` (its parameters, in order; extra entries are ignored) and returns
/// its result as a register word. `site` gives the `file:line:col` reported if the function
/// faults; it is asked only by functions that take a site.
///
/// # Safety
/// `args` must hold values of `func`'s parameter types: live objects of the right kinds for
/// pointer parameters, owned by the caller where the parameter is consumed.
pub unsafe fn call<'a>(func: RtFunc, args: &[i64; MAX_PARAMS], site: impl Fn() -> &'a str) -> i64 {
    let [a, b, c] = *args;
    let float = |word: i64| f64::from_bits(word as u64);
    let word = |value: f64| value.to_bits() as i64;
    let at = || {
        let text = site();
        (text.as_ptr(), text.len())
    };
    use RtFunc::*;
    // SAFETY: the caller guarantees the arguments fit the signature; the text `site` gives is a
    // live `&str`, so its pointer and length describe valid UTF-8.
    unsafe {
        match func {
            StrConcat => krt::string::keel_str_concat(a as _, b as _) as i64,
            StrEq => krt::string::keel_str_eq(a as _, b as _),
            StrCmp => krt::string::keel_str_cmp(a as _, b as _),
            StrLen => krt::string::keel_str_len(a as _),
            IntToStr => krt::string::keel_str_from_int(a) as i64,
            FloatToStr => krt::string::keel_str_from_float(float(a)) as i64,
            BoolToStr => krt::string::keel_str_from_bool(a) as i64,
            ValueToStr => krt::value::keel_value_to_str(a as _) as i64,
            StrSplit => krt::string_ops::keel_str_split(a as _, b as _) as i64,
            StrTrim => krt::string_ops::keel_str_trim(a as _) as i64,
            StrToUpper => krt::string_ops::keel_str_to_upper(a as _) as i64,
            StrToLower => krt::string_ops::keel_str_to_lower(a as _) as i64,
            StrContains => krt::string_ops::keel_str_contains(a as _, b as _),
            StrStartsWith => krt::string_ops::keel_str_starts_with(a as _, b as _),
            StrEndsWith => krt::string_ops::keel_str_ends_with(a as _, b as _),
            StrReplace => krt::string_ops::keel_str_replace(a as _, b as _, c as _) as i64,
            StrSubstring => {
                let (site, site_len) = at();
                krt::string_ops::keel_str_substring(a as _, b, c, site, site_len) as i64
            }
            StrCharAt => {
                let (site, site_len) = at();
                krt::string_ops::keel_str_char_at(a as _, b, site, site_len) as i64
            }
            StrIndexOf => krt::string_ops::keel_str_index_of(a as _, b as _),
            StrJoin => krt::string_ops::keel_str_join(a as _, b as _) as i64,
            ParseInt => {
                let (site, site_len) = at();
                krt::parse::keel_parse_int(a as _, site, site_len)
            }
            ParseFloat => {
                let (site, site_len) = at();
                word(krt::parse::keel_parse_float(a as _, site, site_len))
            }
            ParseIntError => krt::parse::keel_parse_int_error(a as _) as i64,
            ParseFloatError => krt::parse::keel_parse_float_error(a as _) as i64,
            Input => krt::system::keel_input() as i64,
            Args => krt::system::keel_args() as i64,
            ArrayPush => krt::array::keel_array_push(a as _, b) as i64,
            ArrayPop => {
                let (site, site_len) = at();
                krt::array::keel_array_pop(a as _, site, site_len) as i64
            }
            ArraySlice => {
                let (site, site_len) = at();
                krt::array::keel_array_slice(a as _, b, c, site, site_len) as i64
            }
            ArrayConcat => krt::array::keel_array_concat(a as _, b as _) as i64,
            ArrayReverse => krt::array::keel_array_reverse(a as _) as i64,
            ArraySort => krt::array::keel_array_sort(a as _) as i64,
            ArrayContains => krt::array::keel_array_contains(a as _, b),
            ArrayIndexOf => krt::array::keel_array_index_of(a as _, b),
            ArrayFill => {
                let (site, site_len) = at();
                krt::array::keel_array_fill(a as _, b, c, site, site_len) as i64
            }
            ValueEq => krt::value::keel_value_eq(a as _, b as _),
            IntPow => {
                let (site, site_len) = at();
                krt::math::keel_int_pow(a, b, site, site_len)
            }
            IntAbs => {
                let (site, site_len) = at();
                krt::math::keel_int_abs(a, site, site_len)
            }
            IntMin => krt::math::keel_int_min(a, b),
            IntMax => krt::math::keel_int_max(a, b),
            FloatAbs => word(krt::math::keel_float_abs(float(a))),
            FloatSqrt => word(krt::math::keel_float_sqrt(float(a))),
            FloatFloor => word(krt::math::keel_float_floor(float(a))),
            FloatCeil => word(krt::math::keel_float_ceil(float(a))),
            FloatRound => word(krt::math::keel_float_round(float(a))),
            FloatSin => word(krt::math::keel_float_sin(float(a))),
            FloatCos => word(krt::math::keel_float_cos(float(a))),
            FloatTan => word(krt::math::keel_float_tan(float(a))),
            FloatExp => word(krt::math::keel_float_exp(float(a))),
            FloatLn => word(krt::math::keel_float_ln(float(a))),
            FloatMin => word(krt::math::keel_float_min(float(a), float(b))),
            FloatMax => word(krt::math::keel_float_max(float(a), float(b))),
            FloatPow => word(krt::math::keel_float_pow(float(a), float(b))),
            FloatAtan2 => word(krt::math::keel_float_atan2(float(a), float(b))),
            FloatMath => word(krt::math::keel_float_math(a, float(b))),
            FloatMath2 => word(krt::math::keel_float_math2(a, float(b), float(c))),
            IntBits => krt::math::keel_int_bits(a, b),
            StrChr => {
                let (site, site_len) = at();
                krt::string_ops::keel_str_chr(a, site, site_len) as i64
            }
            StrOrd => {
                let (site, site_len) = at();
                krt::string_ops::keel_str_ord(a as _, site, site_len)
            }
            ClockMs => krt::system::keel_clock_ms(),
            Fault => {
                let (site, site_len) = at();
                krt::fault::keel_fault(a as _, site, site_len);
                0
            }
            StaticIsSet => krt::statics::keel_static_is_set(a),
            StaticGet => krt::statics::keel_static_get(a),
            StaticSet => {
                krt::statics::keel_static_set(a, b, c as _);
                0
            }
            SessionGet => krt::session::keel_session_get(a),
            SessionSet => {
                krt::session::keel_session_set(a, b, c as _);
                0
            }
            FaultAt => {
                krt::fault::keel_fault_at(a as _, b as _);
                0
            }
            LiveEnter => {
                krt::recover::keel_live_enter(a);
                0
            }
            LiveBackoff => {
                krt::recover::keel_live_backoff(a, b, c);
                0
            }
            LiveExit => {
                krt::recover::keel_live_exit();
                0
            }
            LiveRetry => {
                let (site, site_len) = at();
                krt::recover::keel_live_retry(site, site_len);
                0
            }
            LiveRetries => krt::recover::keel_live_retries(),
            FileRead => krt::files::keel_file_read(a as _) as i64,
            FileWrite => krt::files::keel_file_write(a as _, b as _),
            FileAppend => krt::files::keel_file_append(a as _, b as _),
            FileExists => krt::files::keel_file_exists(a as _),
            FileRemove => {
                krt::files::keel_file_remove(a as _);
                0
            }
            EnvVar => krt::files::keel_env_var(a as _) as i64,
            ReadLine => krt::files::keel_read_line() as i64,
            IoError => krt::files::keel_io_error() as i64,
            SleepMs => {
                krt::files::keel_sleep_ms(a);
                0
            }
            SpecEnter => {
                krt::recover::keel_speculate_enter();
                0
            }
            SpecAbort => {
                krt::recover::keel_speculate_abort();
                0
            }
            StrWords => krt::string_ops::keel_str_words(a as _) as i64,
            StrBytes => {
                let (site, site_len) = at();
                krt::string_ops::keel_str_bytes(a, b as _, c, site, site_len)
            }
            StrToBytes => krt::string_ops::keel_str_to_bytes(a as _) as i64,
            JsonEncode => {
                let (site, site_len) = at();
                krt::json::keel_json_encode(a as _, b, site, site_len) as i64
            }
            IntMath => {
                let (site, site_len) = at();
                krt::math::keel_int_math(a, b, c, site, site_len)
            }
            ArrayInsertAt => {
                let (site, site_len) = at();
                krt::array::keel_array_insert_at(a as _, b, c, site, site_len) as i64
            }
            ArrayRemoveAt => {
                let (site, site_len) = at();
                krt::array::keel_array_remove_at(a as _, b, site, site_len) as i64
            }
            ArraySwap => {
                let (site, site_len) = at();
                krt::array::keel_array_swap(a as _, b, c, site, site_len) as i64
            }
            ArraySetAt => {
                let (site, site_len) = at();
                krt::array::keel_array_set_at(a as _, b, c, site, site_len) as i64
            }
            MapNew => krt::map::keel_map_new(a as _) as i64,
            MapInsert => krt::map::keel_map_insert(a as _, b, c) as i64,
            MapRemove => krt::map::keel_map_remove(a as _, b) as i64,
            MapFind => krt::map::keel_map_find(a as _, b),
            MapKey => krt::map::keel_map_key(a as _, b),
            MapValue => krt::map::keel_map_value(a as _, b),
            MapSort => {
                krt::map::keel_map_sort(a as _);
                0
            }
            MapLen => krt::map::keel_map_len(a as _),
            MapKeys => krt::map::keel_map_keys(a as _, b as _) as i64,
            MapValues => krt::map::keel_map_values(a as _, b as _) as i64,
        }
    }
}
