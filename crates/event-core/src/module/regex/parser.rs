//! The pattern's syntax, read into the tree that `regex.rs` compiles.

use super::{Class, MAX_REPEAT, Node};

pub(super) struct Parser {
    chars: Vec<char>,
    pub(super) pos: usize,
    pub(super) groups: usize,
}

impl Parser {
    pub(super) fn new(pattern: &str) -> Parser {
        Parser {
            chars: pattern.chars().collect(),
            pos: 0,
            groups: 0,
        }
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn alt(&mut self) -> Result<Node, String> {
        let mut alts = vec![self.concat()?];
        while self.eat('|') {
            alts.push(self.concat()?);
        }
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Node::Concat(Vec::new()))
        } else {
            Node::Alt(alts)
        })
    }

    fn concat(&mut self) -> Result<Node, String> {
        let mut nodes = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            nodes.push(self.repeat(atom)?);
        }
        Ok(Node::Concat(nodes))
    }

    fn repeat(&mut self, mut node: Node) -> Result<Node, String> {
        loop {
            let (min, max) = match self.peek() {
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('?') => (0, Some(1)),
                Some('{') => {
                    self.pos += 1;
                    let min = self.number()?;
                    let max = if self.eat(',') {
                        if self.peek() == Some('}') {
                            None
                        } else {
                            Some(self.number()?)
                        }
                    } else {
                        Some(min)
                    };
                    if self.peek() != Some('}') || max.is_some_and(|m| m < min) {
                        return Err(format!("bad repetition at offset {}", self.pos));
                    }
                    (min, max)
                }
                _ => return Ok(node),
            };
            self.pos += 1;
            if matches!(node, Node::Start | Node::End | Node::Repeat { .. }) {
                return Err(format!("bad repetition operator at offset {}", self.pos));
            }
            let greedy = !self.eat('?');
            node = Node::Repeat {
                node: Box::new(node),
                min,
                max,
                greedy,
            };
        }
    }

    fn number(&mut self) -> Result<u32, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits: String = self.chars[start..self.pos].iter().collect();
        match digits.parse::<u32>() {
            Ok(n) if n <= MAX_REPEAT => Ok(n),
            _ => Err(format!("bad repetition count at offset {start}")),
        }
    }

    fn atom(&mut self) -> Result<Node, String> {
        let at = self.pos;
        let c = self.peek().ok_or("unexpected end")?;
        self.pos += 1;
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '[' => Node::Class(self.class()?),
            '\\' => self.escape(false)?,
            '(' => {
                let index = if self.eat('?') {
                    if !self.eat(':') {
                        return Err(format!("unsupported group syntax at offset {at}"));
                    }
                    None
                } else {
                    self.groups += 1;
                    Some(self.groups)
                };
                let inner = self.alt()?;
                if !self.eat(')') {
                    return Err(format!("missing ')' for the group at offset {at}"));
                }
                Node::Group(Box::new(inner), index)
            }
            '*' | '+' | '?' | '{' => {
                return Err(format!("missing argument to repetition at offset {at}"));
            }
            c => Node::Lit(c),
        })
    }

    /// After a `\`: a class or an escaped character. In a class, only positive classes.
    fn escape(&mut self, in_class: bool) -> Result<Node, String> {
        let at = self.pos;
        let c = self.peek().ok_or("trailing '\\'")?;
        self.pos += 1;
        let set = |ranges: &[(char, char)], negated: bool| {
            Node::Class(Class {
                negated,
                ranges: ranges.to_vec(),
            })
        };
        const DIGIT: &[(char, char)] = &[('0', '9')];
        const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
        const SPACE: &[(char, char)] = &[('\t', '\n'), ('\x0c', '\r'), (' ', ' ')];
        Ok(match c {
            'd' => set(DIGIT, false),
            'w' => set(WORD, false),
            's' => set(SPACE, false),
            'D' | 'W' | 'S' if !in_class => set(
                match c {
                    'D' => DIGIT,
                    'W' => WORD,
                    _ => SPACE,
                },
                true,
            ),
            'n' => Node::Lit('\n'),
            't' => Node::Lit('\t'),
            'r' => Node::Lit('\r'),
            'f' => Node::Lit('\x0c'),
            c if c.is_ascii_punctuation() => Node::Lit(c),
            c => return Err(format!("unsupported escape \\{c} at offset {at}")),
        })
    }

    fn class(&mut self) -> Result<Class, String> {
        let at = self.pos;
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self
                .peek()
                .ok_or(format!("missing ']' for the class at offset {at}"))?;
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let lo = match c {
                '[' if self.peek() == Some(':') => {
                    return Err(format!("unsupported class syntax at offset {}", self.pos));
                }
                '\\' => match self.escape(true)? {
                    Node::Lit(l) => l,
                    Node::Class(set) => {
                        ranges.extend(set.ranges);
                        continue;
                    }
                    _ => unreachable!("escape gives a literal or a class"),
                },
                c => c,
            };
            let is_range =
                self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']');
            if !is_range {
                ranges.push((lo, lo));
                continue;
            }
            self.pos += 1;
            let hi = match self.peek() {
                Some('\\') => {
                    self.pos += 1;
                    match self.escape(true)? {
                        Node::Lit(h) => h,
                        _ => return Err(format!("bad class range at offset {}", self.pos)),
                    }
                }
                Some(h) => {
                    self.pos += 1;
                    h
                }
                None => return Err(format!("missing ']' for the class at offset {at}")),
            };
            if hi < lo {
                return Err(format!("bad class range {lo}-{hi}"));
            }
            ranges.push((lo, hi));
        }
        Ok(Class { negated, ranges })
    }
}
