//! Go's `strconv.FormatFloat` for the `e`, `f` and `g` formats, shortest
//! (precision -1) or fixed, rounding half to even as Go does. Rust's own
//! formatting gives the correctly rounded digits; this module lays them
//! out the way Go does.

/// Decimal digits (no leading or trailing zeros) and the decimal point's
/// position: the value is 0.d1d2... × 10^dp. Zero has no digits.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

/// Digits of "1.2345e-7" style text (Rust's `{:e}`).
fn from_exp(text: &str) -> Digits {
    let (mant, exp) = text.split_once('e').unwrap_or((text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    if d.is_empty() {
        return Digits { d, dp: 0 };
    }
    Digits { d, dp: exp + 1 }
}

/// Digits of "123.4500" style text (Rust's `{:.N}`).
fn from_fixed(text: &str) -> Digits {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let all: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
    let lead = all.iter().take_while(|c| **c == b'0').count();
    let mut d = all[lead..].to_vec();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    if d.is_empty() {
        return Digits { d, dp: 0 };
    }
    Digits {
        d,
        dp: int.len() as i32 - lead as i32,
    }
}

fn shortest(f: f64) -> Digits {
    from_exp(&format!("{f:e}"))
}

fn significant(f: f64, n: usize) -> Digits {
    from_exp(&format!("{:.*e}", n.saturating_sub(1), f))
}

fn fixed(f: f64, prec: usize) -> Digits {
    from_fixed(&format!("{f:.prec$}"))
}

/// Go's `strconv.FormatFloat(f, fmt, prec, 64)` for fmt in `eEfFgG`.
pub(crate) fn format(f: f64, fmt: char, prec: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let neg = f.is_sign_negative();
    let a = f.abs();
    let upper = fmt.is_ascii_uppercase();
    let body = match fmt.to_ascii_lowercase() {
        'x' => hex(a, prec, upper),
        'b' => binary(a),
        'e' => {
            let (digs, p) = if prec < 0 {
                let d = shortest(a);
                let p = d.d.len().max(1) as i32 - 1;
                (d, p)
            } else {
                (significant(a, prec as usize + 1), prec)
            };
            fmt_e(&digs, p, upper)
        }
        'f' => {
            let (digs, p) = if prec < 0 {
                let d = shortest(a);
                let p = (d.d.len() as i32 - d.dp).max(0);
                (d, p)
            } else {
                (fixed(a, prec as usize), prec)
            };
            fmt_f(&digs, p)
        }
        _ => fmt_g(a, prec, upper),
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// The mantissa (with its implicit bit) and exponent of `a` ≥ 0: a =
/// mant × 2^(exp-52).
fn parts(a: f64) -> (u64, i32) {
    let bits = a.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i32;
    let mant = bits & ((1 << 52) - 1);
    if e == 0 {
        (mant, 1 - 1023)
    } else {
        (mant | 1 << 52, e - 1023)
    }
}

/// `%b`: `4503599627370496p-52`.
fn binary(a: f64) -> String {
    let (mant, exp) = parts(a);
    let e = exp - 52;
    format!("{mant}p{}{e}", if e >= 0 { "+" } else { "" })
}

/// `%x`: `0x1.8p+01`, the fraction shortest or rounded to `prec` digits.
fn hex(a: f64, prec: i32, upper: bool) -> String {
    let (mut mant, mut exp) = parts(a);
    if mant == 0 {
        exp = 0;
    }
    mant <<= 8;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = prec as u32 * 4;
        let extra = (mant << shift) & ((1 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let digits = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::from(if upper { "0X" } else { "0x" });
    s.push(if (mant >> 60) & 1 == 1 { '1' } else { '0' });
    mant <<= 4;
    if (prec < 0 && mant != 0) || prec > 0 {
        s.push('.');
        let mut n = 0;
        while (prec < 0 && mant != 0) || (prec >= 0 && n < prec) {
            s.push(digits[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
            n += 1;
        }
    }
    s.push(if upper { 'P' } else { 'p' });
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}

fn fmt_g(a: f64, prec: i32, upper: bool) -> String {
    let short = prec < 0;
    let (digs, mut prec) = if short {
        let d = shortest(a);
        let p = d.d.len() as i32;
        (d, p)
    } else {
        let p = prec.max(1);
        (significant(a, p as usize), p)
    };
    let nd = digs.d.len() as i32;
    let mut eprec = prec;
    if eprec > nd && nd >= digs.dp {
        eprec = nd;
    }
    if short {
        eprec = 6;
    }
    let exp = digs.dp - 1;
    if nd > 0 && (exp < -4 || exp >= eprec) {
        if prec > nd {
            prec = nd;
        }
        return fmt_e(&digs, prec - 1, upper);
    }
    if prec > digs.dp {
        prec = nd;
    }
    fmt_f(&digs, (prec - digs.dp).max(0))
}

fn fmt_e(digs: &Digits, prec: i32, upper: bool) -> String {
    let mut s = String::new();
    s.push(digs.d.first().map_or('0', |c| *c as char));
    if prec > 0 {
        s.push('.');
        for i in 1..=prec as usize {
            s.push(digs.d.get(i).map_or('0', |c| *c as char));
        }
    }
    s.push(if upper { 'E' } else { 'e' });
    let exp = if digs.d.is_empty() { 0 } else { digs.dp - 1 };
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}

fn fmt_f(digs: &Digits, prec: i32) -> String {
    let mut s = String::new();
    if digs.dp > 0 {
        for i in 0..digs.dp as usize {
            s.push(digs.d.get(i).map_or('0', |c| *c as char));
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            let j = digs.dp + i - 1;
            let c = if j >= 0 { digs.d.get(j as usize) } else { None };
            s.push(c.map_or('0', |c| *c as char));
        }
    }
    s
}

/// encoding/json's float64: `f` notation, `e` for tiny and huge values,
/// the exponent without leading zeros (`1e-7`).
pub(crate) fn json(f: f64) -> String {
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = format(f, 'e', -1);
        let b = s.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            return format!("{}{}", &s[..n - 2], &s[n - 1..]);
        }
        return s;
    }
    format(f, 'f', -1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go_v(f: f64) -> String {
        format(f, 'g', -1)
    }

    #[test]
    fn like_go() {
        assert_eq!(go_v(1e6), "1e+06");
        assert_eq!(go_v(123456.0), "123456");
        assert_eq!(go_v(1234567.0), "1.234567e+06");
        assert_eq!(go_v(0.0001), "0.0001");
        assert_eq!(go_v(0.00001), "1e-05");
        assert_eq!(go_v(1.5), "1.5");
        assert_eq!(go_v(0.0), "0");
        assert_eq!(go_v(-2.0), "-2");
        assert_eq!(format(0.125, 'f', 2), "0.12");
        assert_eq!(format(0.375, 'f', 2), "0.38");
        assert_eq!(format(2.5, 'f', 0), "2");
        assert_eq!(format(1234.5678, 'e', 6), "1.234568e+03");
        assert_eq!(format(0.000012, 'E', 6), "1.200000E-05");
        assert_eq!(format(1e-7, 'G', -1), "1E-07");
        assert_eq!(format(0.0, 'e', 6), "0.000000e+00");
        assert_eq!(format(4.261, 'g', 3), "4.26");
        assert_eq!(format(100.0, 'g', 3), "100");
        assert_eq!(format(999.5, 'g', 3), "1e+03");
        assert_eq!(format(1.0, 'g', 3), "1");
        assert_eq!(json(1e21), "1e+21");
        assert_eq!(json(1e-7), "1e-7");
        assert_eq!(json(1e20), "100000000000000000000");
        assert_eq!(json(1.5), "1.5");
        assert_eq!(format(5.0, 'x', -1), "0x1.4p+02");
        assert_eq!(format(1.0, 'X', 2), "0X1.00P+00");
        assert_eq!(format(0.0, 'x', -1), "0x0p+00");
        assert_eq!(format(1.0, 'b', -1), "4503599627370496p-52");
    }
}
