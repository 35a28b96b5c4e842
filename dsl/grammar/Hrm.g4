// The .hrm language. dsl/README.md is the reference; this grammar is the single source of truth for
// syntax. The generated parse tree never leaves dsl/parse/ParseFile.cpp, which builds our own AST.
grammar Hrm;

file        : decl* EOF ;

decl        : importDecl | enumDecl | configDecl | presetDecl | moduleDecl | modelDecl | fnDecl ;

importDecl  : 'import' STRING ';' ;
enumDecl    : doc? 'enum' ident '{' ident (',' ident)* ','? '}' ;
configDecl  : 'config' '{' configEntry* '}' ;
configEntry : ident ':' scalarType '=' expr doc? ';' ;
presetDecl  : doc? 'preset' ident '{' assignment* '}' ;
assignment  : ident '=' expr ';' ;

moduleDecl  : doc? 'module' ident paramList? '{' member* '}' ;
modelDecl   : doc? 'model' ident '{' member* '}' ;
paramList   : '(' (param (',' param)*)? ')' ;
param       : ident ':' paramType ('=' expr)? ;
paramType   : scalarType | tensorType ;
scalarType  : ident ;                                   // int, float, bool or an enum name

member      : doc? 'param'  ident ':' tensorType '=' expr ';'             # paramMember
            | doc? 'buffer' ident ':' tensorType '=' expr ';'             # bufferMember
            | doc? ident ':' 'stack' '(' expr ')' moduleRef ';'          # stackMember
            | doc? ident ':' moduleRef ';'                                # submoduleMember
            | 'let' ident '=' expr ';'                                    # letMember
            | 'magicnorm' callArgs? ('if' expr)? ';'                      # magicnormMember
            | 'objective' ident ';'                                       # objectiveMember
            | 'mask' expr ';'                                             # maskMember
            | 'credit' callArgs ';'                                       # creditMember
            | fnDecl                                                      # fnMember
            ;
moduleRef   : ident callArgs? ;

fnDecl      : doc? 'fn' ident paramList ('->' tensorType)? block ;
tensorType  : '[' (dim (',' dim)*)? ']' ident? ;        // shape, then an optional dtype (f32, bf16, i32)
dim         : expr ;

block       : '{' stmt* '}' ;
stmt        : 'state' ident (':' tensorType)? '=' expr ';'               # stateStmt
            | ident (',' ident)+ '=' expr ';'                            # destructureStmt
            | ident (':' tensorType)? '=' expr ';'                       # assignStmt
            | 'return' expr ';'                                          # returnStmt
            | 'slow' '(' expr ')' block                                  # slowStmt
            | 'fast' '(' expr ')' block                                  # fastStmt
            | 'level' ident '(' expr ')' block                           # levelStmt
            | 'if' expr block ('else' (block | ifStmtTail))?             # ifStmt
            ;
ifStmtTail  : 'if' expr block ('else' (block | ifStmtTail))? ;

expr        : primary                                                    # primaryExpr
            | expr '.' ident                                             # memberExpr
            | expr callArgs                                              # callExpr
            | op=('-' | '!') expr                                        # unaryExpr
            | expr op=('*' | '/' | '%' | '@') expr                # mulExpr
            | expr op=('+' | '-') expr                                   # addExpr
            | expr op=('<' | '<=' | '>' | '>=') expr                     # cmpExpr
            | expr op=('==' | '!=') expr                                 # eqExpr
            | expr '&&' expr                                             # andExpr
            | expr '||' expr                                             # orExpr
            | <assoc=right> expr '?' expr ':' expr                       # condExpr
            ;
primary     : INT | FLOAT | STRING | 'true' | 'false' | ident
            | '(' expr ')'
            | '[' (expr (',' expr)*)? ']'
            ;
callArgs    : '(' (arg (',' arg)*)? ')' ;
arg         : (ident '=')? expr ;
doc         : STRING+ ;                                     // adjacent literals join (multi-line docs)

// Keywords that only mean something in one place stay usable as names (a submodule called `model`,
// a parameter called `mask`), so reference parameter names map onto the language unchanged.
ident       : ID | 'model' | 'mask' | 'objective' | 'credit' | 'state' | 'param' | 'buffer'
            | 'stack' | 'magicnorm' | 'slow' | 'fast' | 'level' | 'preset' | 'config' | 'enum' ;

INT         : [0-9]+ ;
FLOAT       : [0-9]+ '.' [0-9]* EXP? | [0-9]+ EXP | '.' [0-9]+ EXP? ;
fragment EXP: [eE] [+-]? [0-9]+ ;
STRING      : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
ID          : [a-zA-Z_] [a-zA-Z_0-9]* ;
LINE_COMMENT: '//' ~[\r\n]* -> skip ;
BLOCK_COMMENT: '/*' .*? '*/' -> skip ;
WS          : [ \t\r\n]+ -> skip ;
// Anything else becomes one bad-character token so the lexer never stops early; the parser reports it.
BAD_CHAR    : . ;
