; Debug traps caused by MOV SS or POP SS wait for the next instruction
; (SDM vol. 3A, 6.8.3 "Masking Exceptions and Interrupts When Switching
; Stacks"): a single step over MOV SS / POP SS traps once, after the
; instruction that follows; a data breakpoint hit by their read is
; reported after that instruction too, together with its own hits, and
; after an INT n or a fault in the instruction that follows it the trap
; comes at the handler's first instruction.  Other segment loads trap at
; once.
; umbra-args: -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
HITS  equ 0x580
LDR6  equ 0x584
LEIP  equ 0x588
SELW  equ 0x4000      ; a word holding SEL_DATA32
OTHER equ 0x4010      ; another watched dword
INTS  equ 0x58c       ; INT 0x40 handler runs

%macro TF_ON 0
    pushfd
    or dword [esp], 0x100
    popfd
%endmacro

start:
    ENTER_PM32 pm
pm:
    STD_IDT
    SET_GATE 1, db_handler
    SET_GATE 0x40, int40_handler
    SET_GATE 6, ud_handler
    mov word [0x5f0], 0x41 * 8 - 1 ; IDT limit covers vector 0x40
    lidt [0x5f0]
    mov word [SELW], SEL_DATA32
    mov ax, SEL_DATA32
    ; ---- single step over MOV SS ----
    mov dword [HITS], 0
    TF_ON
    mov ss, ax                  ; no trap here
    mov ebx, 1                  ; the one trap, after this
after_movss:
    CHK "step movss hits", [HITS], 1
    CHK "step movss eip", [LEIP], after_movss
    mov eax, [LDR6]
    and eax, 0x4000
    CHK "step movss bs", eax, 0x4000
    ; ---- single step over POP SS ----
    mov dword [HITS], 0
    push dword SEL_DATA32
    TF_ON
    pop ss
    mov ebx, 2
after_popss:
    CHK "step popss hits", [HITS], 1
    CHK "step popss eip", [LEIP], after_popss
    ; ---- single step over MOV DS: traps at once ----
    mov dword [HITS], 0
    mov ax, SEL_DATA32
    TF_ON
    mov ds, ax
after_movds:
    CHK "step movds hits", [HITS], 1
    CHK "step movds eip", [LEIP], after_movds
    ; ---- data breakpoint on the selector MOV SS reads ----
    mov dword [HITS], 0
    mov eax, SELW
    mov dr0, eax
    mov eax, OTHER
    mov dr1, eax
    mov eax, 0x400 | 1 | (0x7 << 16) | 4 | (0xd << 20) ; DR0 rw len 2, DR1 write len 4
    mov dr7, eax
    mov ss, [SELW]              ; hit held back
    mov ecx, 5
after_datass:
    CHK "data movss hits", [HITS], 1
    CHK "data movss eip", [LEIP], after_datass
    mov eax, [LDR6]
    and eax, 0xf
    CHK "data movss dr6", eax, 1
    ; ---- the next instruction's own hit joins the held one ----
    mov dword [HITS], 0
    mov ss, [SELW]
    mov dword [OTHER], 7
after_both:
    CHK "data both hits", [HITS], 1
    CHK "data both eip", [LEIP], after_both
    mov eax, [LDR6]
    and eax, 0xf
    CHK "data both dr6", eax, 3
    ; ---- POP SS reading a watched stack slot ----
    mov dword [HITS], 0
    mov esp, 0x5ffc
    mov dword [0x5ffc], SEL_DATA32
    mov eax, 0x5ffc
    mov dr0, eax
    pop ss
    mov esp, 0x7000             ; the trap's frame goes below 0x7000
after_datapop:
    mov eax, dr7                ; stop watching the stack before CHK pushes
    and eax, ~3
    mov dr7, eax
    CHK "data popss hits", [HITS], 1
    CHK "data popss eip", [LEIP], after_datapop
    ; ---- MOV SS then INT n: the trap comes in the handler ----
    mov dword [HITS], 0
    mov dword [INTS], 0
    mov eax, SELW
    mov dr0, eax
    mov eax, 0x400 | 1 | (0x7 << 16)
    mov dr7, eax
    mov ss, [SELW]
    int 0x40
    CHK "data int hits", [HITS], 1
    CHK "data int eip", [LEIP], int40_handler
    CHK "data int ran", [INTS], 1
    ; ---- MOV SS then a fault: the trap comes in the fault's handler ----
    mov dword [HITS], 0
    mov dword [INTS], 0
    mov ss, [SELW]
    ud2
    CHK "data ud hits", [HITS], 1
    CHK "data ud eip", [LEIP], ud_handler
    CHK "data ud ran", [INTS], 1
    xor eax, eax
    mov dr7, eax
    FINISH

; #DB: count, record DR6 and the pushed EIP, clear DR6 and TF.  A trap
; frame pushed onto a watched stack slot traps again: give up after 8.
db_handler:
    push eax
    inc dword [HITS]
    cmp dword [HITS], 8         ; a runaway chain of traps: stop watching
    jb .go
    xor eax, eax
    mov dr7, eax
.go:
    mov eax, dr6
    mov [LDR6], eax
    mov eax, [esp + 4]
    mov [LEIP], eax
    xor eax, eax
    mov dr6, eax
    and dword [esp + 12], ~0x100
    pop eax
    iretd

int40_handler:
    inc dword [INTS]
    iretd

ud_handler:
    inc dword [INTS]
    add dword [esp], 2          ; past the UD2
    iretd

    STD_GDT
    SYS_HELPERS
    UNEXPECTED_STUBS
    ROM_END start
