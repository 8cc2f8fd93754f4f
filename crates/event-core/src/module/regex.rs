//! The part of RE2's syntax (Terraform's `regex()`) that validation conditions use, matched by a Pike
//! VM: linear in the input, whatever the pattern, so a payload's string cannot make a check slow.
//!
//! Supported: literals, `.`, classes (`[a-z0-9-]`, `[^...]`, `\d \w \s` and their negations), `^`,
//! `$`, groups (`(...)`, `(?:...)`), `|`, and `* + ? {n} {n,} {n,m}` (greedy or lazy). Anything else
//! (flags, named groups, `\b`, Unicode classes) is refused when the pattern is compiled, so a rule
//! using it is reported at module load instead of being checked wrongly.

mod parser;

use parser::Parser;

const MAX_PROGRAM: usize = 20_000;
pub(super) const MAX_REPEAT: u32 = 1000;

#[derive(Debug, Clone)]
pub(crate) struct Regex {
    prog: Vec<Inst>,
    classes: Vec<Class>,
    /// Capture groups, not counting the whole match.
    pub(crate) groups: usize,
}

#[derive(Debug, Clone, Copy)]
enum Inst {
    Char(char),
    Any,
    Class(usize),
    Start,
    End,
    Save(usize),
    Split(usize, usize),
    Jmp(usize),
    Match,
}

#[derive(Debug, Clone)]
pub(super) struct Class {
    pub(super) negated: bool,
    pub(super) ranges: Vec<(char, char)>,
}

impl Class {
    fn matches(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Lit(char),
    Any,
    Class(Class),
    Start,
    End,
    Group(Box<Node>, Option<usize>),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    },
}

impl Regex {
    pub(crate) fn new(pattern: &str) -> Result<Regex, String> {
        let mut p = Parser::new(pattern);
        let node = p.alt()?;
        if !p.at_end() {
            return Err(format!("unbalanced ')' at offset {}", p.pos));
        }
        let mut re = Regex {
            prog: vec![Inst::Save(0)],
            classes: Vec::new(),
            groups: p.groups,
        };
        re.compile(&node)?;
        re.prog.push(Inst::Save(1));
        re.prog.push(Inst::Match);
        Ok(re)
    }

    /// The leftmost-first match, as RE2: the byte spans of the whole match and of each group.
    pub(crate) fn captures(&self, text: &str) -> Option<Vec<Option<(usize, usize)>>> {
        let slots = 2 * (self.groups + 1);
        let mut clist: Vec<(usize, Vec<Option<usize>>)> = Vec::new();
        let mut nlist = Vec::new();
        let mut seen = vec![false; self.prog.len()];
        let mut matched: Option<Vec<Option<usize>>> = None;
        let mut positions = text.char_indices().map(|(i, _)| i).collect::<Vec<_>>();
        positions.push(text.len());
        for (step, &pos) in positions.iter().enumerate() {
            if matched.is_none() {
                self.add(&mut clist, &mut seen, 0, pos, text.len(), vec![None; slots]);
            }
            if clist.is_empty() {
                break;
            }
            let cur = text[pos..].chars().next();
            let next = positions.get(step + 1).copied().unwrap_or(text.len());
            seen.fill(false);
            for (pc, caps) in clist.drain(..) {
                let ok = match (self.prog[pc], cur) {
                    (Inst::Match, _) => {
                        matched = Some(caps);
                        break;
                    }
                    (Inst::Char(want), Some(c)) => c == want,
                    (Inst::Any, Some(c)) => c != '\n',
                    (Inst::Class(i), Some(c)) => self.classes[i].matches(c),
                    _ => false,
                };
                if ok {
                    self.add(&mut nlist, &mut seen, pc + 1, next, text.len(), caps);
                }
            }
            std::mem::swap(&mut clist, &mut nlist);
        }
        if matched.is_none() {
            matched = clist
                .into_iter()
                .find(|(pc, _)| matches!(self.prog[*pc], Inst::Match))
                .map(|(_, caps)| caps);
        }
        let caps = matched?;
        Some(
            caps.chunks(2)
                .map(|s| match (s[0], s[1]) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                })
                .collect(),
        )
    }

    /// Follows the zero-width instructions from `pc` at `pos`, in priority order.
    fn add(
        &self,
        list: &mut Vec<(usize, Vec<Option<usize>>)>,
        seen: &mut [bool],
        pc: usize,
        pos: usize,
        len: usize,
        mut caps: Vec<Option<usize>>,
    ) {
        if seen[pc] {
            return;
        }
        seen[pc] = true;
        match self.prog[pc] {
            Inst::Jmp(to) => self.add(list, seen, to, pos, len, caps),
            Inst::Split(a, b) => {
                self.add(list, seen, a, pos, len, caps.clone());
                self.add(list, seen, b, pos, len, caps);
            }
            Inst::Save(slot) => {
                caps[slot] = Some(pos);
                self.add(list, seen, pc + 1, pos, len, caps);
            }
            Inst::Start if pos == 0 => self.add(list, seen, pc + 1, pos, len, caps),
            Inst::End if pos == len => self.add(list, seen, pc + 1, pos, len, caps),
            Inst::Start | Inst::End => {}
            _ => list.push((pc, caps)),
        }
    }

    fn emit(&mut self, inst: Inst) -> Result<usize, String> {
        if self.prog.len() >= MAX_PROGRAM {
            return Err("pattern is too large".into());
        }
        self.prog.push(inst);
        Ok(self.prog.len() - 1)
    }

    fn compile(&mut self, node: &Node) -> Result<(), String> {
        match node {
            Node::Lit(c) => {
                self.emit(Inst::Char(*c))?;
            }
            Node::Any => {
                self.emit(Inst::Any)?;
            }
            Node::Start => {
                self.emit(Inst::Start)?;
            }
            Node::End => {
                self.emit(Inst::End)?;
            }
            Node::Class(c) => {
                self.classes.push(c.clone());
                self.emit(Inst::Class(self.classes.len() - 1))?;
            }
            Node::Group(inner, None) => self.compile(inner)?,
            Node::Group(inner, Some(n)) => {
                self.emit(Inst::Save(2 * n))?;
                self.compile(inner)?;
                self.emit(Inst::Save(2 * n + 1))?;
            }
            Node::Concat(nodes) => {
                for n in nodes {
                    self.compile(n)?;
                }
            }
            Node::Alt(alts) => {
                let mut jumps = Vec::new();
                for (i, alt) in alts.iter().enumerate() {
                    if i + 1 < alts.len() {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.compile(alt)?;
                        jumps.push(self.emit(Inst::Jmp(0))?);
                        self.prog[split] = Inst::Split(split + 1, self.prog.len());
                    } else {
                        self.compile(alt)?;
                    }
                }
                let end = self.prog.len();
                for j in jumps {
                    self.prog[j] = Inst::Jmp(end);
                }
            }
            Node::Repeat {
                node,
                min,
                max,
                greedy,
            } => {
                for _ in 0..*min {
                    self.compile(node)?;
                }
                let split = |a, b| {
                    if *greedy {
                        Inst::Split(a, b)
                    } else {
                        Inst::Split(b, a)
                    }
                };
                match max {
                    None => {
                        let start = self.emit(Inst::Split(0, 0))?;
                        self.compile(node)?;
                        self.emit(Inst::Jmp(start))?;
                        self.prog[start] = split(start + 1, self.prog.len());
                    }
                    Some(max) => {
                        let mut holes = Vec::new();
                        for _ in *min..*max {
                            holes.push(self.emit(Inst::Split(0, 0))?);
                            self.compile(node)?;
                        }
                        let end = self.prog.len();
                        for h in holes {
                            self.prog[h] = split(h + 1, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Regex;

    fn find(p: &str, t: &str) -> Option<String> {
        let re = Regex::new(p).unwrap();
        re.captures(t)
            .map(|c| c[0].map(|(a, b)| t[a..b].to_owned()).unwrap_or_default())
    }

    #[test]
    fn anchored_patterns_match_whole_strings_only() {
        let id = "^[a-z][a-z0-9-]{0,39}$";
        assert_eq!(
            find(id, "winter-sale-2026").as_deref(),
            Some("winter-sale-2026")
        );
        assert_eq!(find(id, &"a".repeat(40)).as_deref(), Some(&*"a".repeat(40)));
        for bad in ["", "Winter", "2026", &"a".repeat(41), "a_b", "ab\n"] {
            assert_eq!(find(id, bad), None, "{bad:?}");
        }
        let class = "^db\\.[a-z0-9]+\\.[a-z0-9]+$";
        assert!(find(class, "db.m7g.large").is_some());
        for bad in [
            "large",
            "db.large",
            "dbxm7g.large",
            "db.m7g.large.x",
            "db.M7g.large",
        ] {
            assert_eq!(find(class, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn unanchored_patterns_search_leftmost_first_as_re2() {
        assert_eq!(find("a+", "baaac").as_deref(), Some("aaa"));
        assert_eq!(find("a+?", "baaac").as_deref(), Some("a"));
        assert_eq!(find("x*", "abc").as_deref(), Some(""));
        assert_eq!(find("b|bc", "abc").as_deref(), Some("b"));
        assert_eq!(find("(?:ab)+$", "abab").as_deref(), Some("abab"));
        assert_eq!(find("\\d{2,3}", "a12345").as_deref(), Some("123"));
        assert_eq!(find("[^a-c]", "abcd").as_deref(), Some("d"));
        assert_eq!(find("[-a]+", "x-a-").as_deref(), Some("-a-"));
        assert_eq!(find("z", "abc"), None);
        let re = Regex::new("^(\\w+)@(\\w+)?$").unwrap();
        assert_eq!(re.groups, 2);
        assert_eq!(
            re.captures("me@"),
            Some(vec![Some((0, 3)), Some((0, 2)), None])
        );
    }

    #[test]
    fn hostile_input_against_nested_repetition_is_linear() {
        let re = Regex::new("^(a+)+$").unwrap();
        let text = format!("{}b", "a".repeat(1024));
        let t = std::time::Instant::now();
        assert!(re.captures(&text).is_none());
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn unsupported_syntax_is_refused_when_compiled() {
        for p in [
            "(?i)abc",
            "(?P<n>a)",
            "\\bword",
            "[[:alpha:]]",
            "\\pL",
            "a{2,1}",
            "(a",
            "a)",
            "*a",
        ] {
            assert!(Regex::new(p).is_err(), "{p}");
        }
    }
}
