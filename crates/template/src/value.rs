//! Values during execution: a JSON value, borrowed from the data or made
//! by a function, or Go's "no value" (a missing map key). Like Go's
//! `reflect.Value` of an element of `map[string]interface{}`, a value
//! taken out of a map or a slice is "in an interface" until a pipeline
//! stage ends, which changes how it prints (`null` is `<no value>` there,
//! `<nil>` as a function argument) and how type errors name it.

use std::borrow::Cow;

use serde_json::Value;

#[derive(Clone, Debug)]
pub(crate) enum V<'a> {
    /// Go's invalid `reflect.Value`: a missing map key.
    Missing,
    Val {
        v: Cow<'a, Value>,
        /// Held in an `interface{}` (an element of a JSON map or slice).
        iface: bool,
    },
}

impl<'a> V<'a> {
    pub fn own(v: Value) -> V<'a> {
        V::Val {
            v: Cow::Owned(v),
            iface: false,
        }
    }

    pub fn str(s: impl Into<String>) -> V<'a> {
        V::own(Value::String(s.into()))
    }

    pub fn value(&self) -> Option<&Value> {
        match self {
            V::Missing => None,
            V::Val { v, .. } => Some(v.as_ref()),
        }
    }

    /// Go's nil interface or no value.
    pub fn is_nil(&self) -> bool {
        matches!(self.value(), None | Some(Value::Null))
    }

    /// A fmt argument: nil for no value and null.
    pub fn arg(&self) -> Option<&Value> {
        self.value().filter(|v| !v.is_null())
    }

    /// The end of a pipeline stage: out of its interface (Go's
    /// `reflect.ValueOf(value.Interface())`), so a null is no value.
    pub fn concrete(self) -> V<'a> {
        match self {
            V::Val { v, iface: true } if v.is_null() => V::Missing,
            V::Val { v, .. } => V::Val { v, iface: false },
            V::Missing => V::Missing,
        }
    }

    /// The same value inside an interface.
    pub fn boxed(self) -> V<'a> {
        match self {
            V::Val { v, .. } => V::Val { v, iface: true },
            V::Missing => V::Missing,
        }
    }

    /// The static type Go names in errors.
    pub fn go_type(&self) -> String {
        match self {
            V::Missing => "<invalid reflect.Value>".into(),
            V::Val { iface: true, .. } => "interface {}".into(),
            V::Val { v, .. } => crate::gofmt::type_name(Some(v)).into(),
        }
    }

    /// Go's `isTrue`: the zero value of each type is false.
    pub fn truth(&self) -> bool {
        match self.value() {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Object(m)) => !m.is_empty(),
        }
    }

    /// A sub-value (field, element) of a borrowed or owned value.
    pub fn child(&self, f: impl Fn(&Value) -> Option<&Value>) -> Option<V<'a>> {
        match self {
            V::Val {
                v: Cow::Borrowed(b),
                ..
            } => f(b).map(|x| V::Val {
                v: Cow::Borrowed(x),
                iface: true,
            }),
            V::Val {
                v: Cow::Owned(o), ..
            } => f(o).map(|x| V::Val {
                v: Cow::Owned(x.clone()),
                iface: true,
            }),
            V::Missing => None,
        }
    }

    /// Whether this is the data itself (by address), where methods apply.
    pub fn is(&self, root: &Value) -> bool {
        matches!(self, V::Val { v: Cow::Borrowed(b), .. } if std::ptr::eq(*b, root))
    }
}

/// The comparison classes of Go's `eq`/`lt`.
#[derive(PartialEq, Clone, Copy)]
pub(crate) enum Kind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    String,
}

pub(crate) fn kind(v: Option<&Value>) -> Kind {
    match v {
        Some(Value::Bool(_)) => Kind::Bool,
        Some(Value::Number(n)) if n.is_i64() => Kind::Int,
        Some(Value::Number(n)) if n.is_u64() => Kind::Uint,
        Some(Value::Number(_)) => Kind::Float,
        Some(Value::String(_)) => Kind::String,
        _ => Kind::Invalid,
    }
}
